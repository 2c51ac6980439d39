#!/usr/bin/env bash
# Installs the Debian packages nnc needs (if missing), then builds Release into build/.
# The CLI is build/nnc. Extra arguments go to cmake's configure step; TARGETS limits what is
# built (default: everything).
#   BUILD_DIR=build-foo TARGETS="nnc nnc_test_core" tools/build.sh -DNNC_SANITIZE=ON
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake g++ make libprotobuf-dev protobuf-compiler libonnx-dev libfmt-dev doctest-dev libstb-dev libonnx-testdata)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "tools/build.sh: installing missing Debian packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" "$@" >/dev/null
targets=()
for t in ${TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$build_dir" -j"$(nproc)" "${targets[@]}"
echo "tools/build.sh: built $build_dir/nnc"
