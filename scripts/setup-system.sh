#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Splatcast needs (run as root, or with sudo available).
#   cmake, g++, make  — build the native engine addon
#   python3           — node-gyp builds of dependencies
#   ffmpeg            — decoding uploads, muxing rendered video with audio
#   pkg-config libvpx-dev libopenh264-dev — the server's video encoder addon (VP8, H.264)
#   meson ninja-build libuv1-dev libssl-dev libsrtp2-dev libflatbuffers-dev flatbuffers-compiler libabsl-dev
#                     — building mediasoup's worker offline when its prebuilt one cannot be downloaded
#   chromium          — the browser end-to-end tests (driven by playwright-core)
#   redis-server      — the cluster tests (Redis session registry, BullMQ job queue) start their own
# nvcc (CUDA toolkit 12.x/13.x) is optional: when present the engine also builds its CUDA backend.
set -euo pipefail
packages=(cmake g++ make python3 ffmpeg pkg-config libvpx-dev libopenh264-dev
  meson ninja-build libuv1-dev libssl-dev libsrtp2-dev libflatbuffers-dev flatbuffers-compiler libabsl-dev chromium redis-server)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present (${packages[*]})"
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "need root to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "system packages: installing ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
