#!/usr/bin/env bash
# Installs every Debian package lmlab needs to build, test and run (see README.md); with --fuzz,
# also clang and its libFuzzer runtime, which only `make fuzz` needs.
# Idempotent: packages already present are skipped. Uses sudo when not run as root.
set -euo pipefail

# libopenblas0-openmp: OpenBLAS built on OpenMP, so its threads are LibTorch's own pool; lmlab's
# programs load it instead of the system's choice (CMakeLists.txt, LMLAB_OPENMP_BLAS). Installing
# it leaves Debian's default (the pthread build, higher priority) as it is for other programs.
# libgloo-dev: the headers of Gloo, the collective library LibTorch's ProcessGroupGloo (linked into
# libtorch_cpu) is built on; data-parallel training includes them (docs/distributed.md).
PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev libopenblas0-pthread libopenblas0-openmp libgloo-dev
  libcli11-dev nlohmann-json3-dev libtomlplusplus-dev zlib1g-dev
  gnuplot-nox
  libgtest-dev libgmock-dev libbenchmark-dev
  pybind11-dev python3-dev python3-torch python3-numpy python3-pytest
  dataset-fashion-mnist fortunes
)
if [ "${1:-}" = "--fuzz" ]; then
  PACKAGES+=(clang-14 libclang-rt-14-dev)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "install-deps: not root and sudo is missing; install as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get update -q; then
  echo "install-deps: 'apt-get update' failed; check the network and /etc/apt/sources.list" >&2
  exit 1
fi
if ! $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"; then
  echo "install-deps: 'apt-get install' failed for: ${missing[*]}" >&2
  echo "install-deps: these packages come from Debian 12 (bookworm) main; check that it is in your sources" >&2
  exit 1
fi
echo "install-deps: done"
