#!/usr/bin/env bash
# check-deb.sh: builds lrscope's Debian package from this checkout, installs
# it with apt (which must pull in its runtime dependencies), runs the
# installed binary, its manual and its tests from outside the source tree,
# lints the package, then purges it and checks that none of its files are
# left. Meant for a brand-new machine (../shared/tools/fresh-machine
# 'scripts/check-deb.sh'); needs root. Exits non-zero at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# What the machine had before: everything the build brings is purged again
# before the package is installed, so that apt must pull in its runtime
# dependencies itself.
before=$(dpkg-query -W -f='${Package}\n' | sort)
apt-get install -y -q --no-install-recommends dpkg-dev debhelper fakeroot lintian
apt-get build-dep -y -q ./
out=$(mktemp -d)
# The package is built from a copy, so the checkout's build/ is untouched.
git ls-files -z | tar --null -T - -cf - | (mkdir -p "$out/src" && tar -xf - -C "$out/src")
(cd "$out/src" && COMMIT=$(git -C "$OLDPWD" rev-parse --short=12 HEAD) \
    dpkg-buildpackage -us -uc -b)
deb=$(ls "$out"/lrscope_*.deb)
echo "check-deb: built $(basename "$deb")"
lintian --fail-on error "$deb"
build_deps=$(comm -13 <(echo "$before") <(dpkg-query -W -f='${Package}\n' | sort))
apt-get purge -y -q $build_deps
apt-get autoremove -y -q --purge
for lib in libplplot17 libjansson4 libgsl27 libyaml-0-2 libarchive13; do
    if dpkg-query -W -f='${Status}' "$lib" 2>/dev/null | grep -q "install ok installed"; then
        echo "check-deb: $lib is still installed after purging the build dependencies"; exit 1
    fi
done
apt-get install -y -q --no-install-recommends "$deb" man-db mandoc
if ldd "$(command -v lrscope)" | grep -q "not found"; then
    echo "check-deb: the installed lrscope lacks libraries:"; ldd "$(command -v lrscope)" | grep "not found"; exit 1
fi
files=$(dpkg -L lrscope | while read -r f; do [ -f "$f" ] && echo "$f"; done)
(cd / && lrscope --version)
(cd / && MANWIDTH=80 man lrscope | head -20)
(cd / && man -w lrscope-study lrscope-files)
smoke="$(pwd)/debian/tests/smoke"; (cd / && sh "$smoke") || { echo "check-deb: smoke test failed"; exit 1; }
apt-get purge -y -q lrscope
left=0
for f in $files; do
    if [ -e "$f" ]; then echo "check-deb: left behind after purge: $f"; left=1; fi
done
[ $left -eq 0 ] || exit 1
if command -v lrscope >/dev/null; then echo "check-deb: lrscope still on PATH after purge"; exit 1; fi
rm -rf "$out"
echo "check-deb: package built, installed, used and purged cleanly"
