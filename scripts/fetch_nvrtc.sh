#!/usr/bin/env bash
# Puts NVRTC (CUDA's run-time compiler, from PyPI's nvidia-cuda-nvrtc-cu12 wheel) in .cuda/lib, so
# the tests can compile every CUDA kernel on a machine without a GPU. Optional: when pip or the
# network is missing it says so and the kernel-compile test reports itself skipped.
set -uo pipefail
cd "$(dirname "$0")/.."
if ls .cuda/lib/libnvrtc.so.* >/dev/null 2>&1; then exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if python3 -m pip download -q --no-deps --only-binary=:all: --platform manylinux2014_x86_64 --python-version 3.12 \
     -d "$tmp" 'nvidia-cuda-nvrtc-cu12>=12.4' >/dev/null 2>&1 \
   && mkdir -p .cuda/lib \
   && python3 -c 'import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
for name in z.namelist():
    if "/lib/libnvrtc" in name and ".alt." not in name:
        open(".cuda/lib/" + name.rsplit("/", 1)[1], "wb").write(z.read(name))' "$tmp"/*.whl; then
  echo "fetch_nvrtc: NVRTC is in .cuda/lib"
else
  echo "fetch_nvrtc: could not fetch NVRTC from PyPI (no pip or no network); the kernel-compile test will be skipped"
fi
exit 0
