#!/usr/bin/env bash
# install-deps.sh: installs the Debian packages lrscope needs to build, test
# and draw its figures, and only those that are missing. Idempotent and quick
# when everything is there. `--with-torch` adds python3-torch/torchvision
# and python3-scipy/mpmath, used only to regenerate reference data and for side-by-side benchmarks.
set -euo pipefail

packages=(gcc make pkg-config libc6-dev
          libcmocka-dev libjansson-dev zlib1g-dev
          libplplot-dev plplot-driver-cairo
          libcurl4-openssl-dev libarchive-dev libstb-dev libyaml-dev
          libgsl-dev mandoc man-db zsh)
if [[ "${1:-}" == "--with-torch" ]]; then
    packages+=(python3-torch python3-torchvision python3-scipy python3-mpmath)
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null; then sudo="sudo"; else
        echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
        exit 2
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
