#!/usr/bin/env bash
# install-deps.sh: installs the Debian packages lrscope needs to build, test
# and draw its figures, and only those that are missing. Idempotent and quick
# when everything is there. `--with-torch` adds python3-torch/torchvision
# and python3-scipy/mpmath (and libopenblas0-pthread, PyTorch's BLAS), used only to
# regenerate reference data and for side-by-side benchmarks;
# `--with-fuzz` adds clang and its libFuzzer runtime, for `make fuzz`;
# `--with-chromium` adds chromium, for `make check-report` (headless report check).
set -euo pipefail

packages=(gcc make pkg-config libc6-dev
          libcmocka-dev libjansson-dev zlib1g-dev
          libplplot-dev plplot-driver-cairo
          libcurl4-openssl-dev libarchive-dev libstb-dev libyaml-dev
          libgsl-dev mandoc man-db zsh
          protobuf-compiler    # protoc --decode_raw: the second reader of test_tfevents
          openmpi-bin libopenmpi-dev)   # a study across MPI ranks (mpirun; test_mpi runs it)
for arg in "$@"; do
    case "$arg" in
        # libopenblas0-pthread takes over libblas.so.3 from Debian's reference BLAS: what a
        # PyTorch user runs, and what `make bench` compares with (bench/resnet.sh)
        --with-torch) packages+=(python3-torch python3-torchvision python3-scipy python3-mpmath libopenblas0-pthread) ;;
        --with-fuzz) packages+=(clang libclang-rt-14-dev) ;;
        --with-chromium) packages+=(chromium) ;;
        *) echo "install-deps: unknown option $arg (expected --with-torch, --with-fuzz or --with-chromium)" >&2; exit 2 ;;
    esac
done

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
