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
apt-get install -y -q --no-install-recommends "$deb" man-db mandoc
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
