#!/usr/bin/env bash
# Installs the Debian packages the build needs when they are missing: oneDNN (the CPU kernels),
# libjpeg-turbo and libpng (image decoding), FFmpeg's libraries (predict's video mode), Open MPI
# (DDP: mpirun and libmpi, opened at run time; iproute2 for the two-host test), SQLite (tune's study
# database; util-linux's setpriv ends trials with their study). Safe to run
# again; does nothing when all are there.
set -euo pipefail
needed=()
for pkg in libdnnl-dev libjpeg-dev libpng-dev libavformat-dev libavcodec-dev libswscale-dev libavutil-dev libavdevice-dev \
           libopenmpi-dev openmpi-bin iproute2 libsqlite3-dev util-linux; do
  dpkg -s "$pkg" >/dev/null 2>&1 || needed+=("$pkg")
done
if [ ${#needed[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${needed[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  echo "setup: installing ${needed[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${needed[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "setup: no Swift toolchain on PATH (Swift 5.10 or newer is needed)" >&2; exit 1; }
