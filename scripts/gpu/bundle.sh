#!/usr/bin/env bash
# Builds out/gpu-bundle.tar.xz: what the engine needs on the lent GPU machine besides the tracked sources (the built
# JavaScript, the addon built for sm_90 into out/gpu-build, the only two runtime packages training loads, the
# server's media addon with the Debian codec libraries it links (libvpx, libopenh264: the GPU machine has no apt)
# for the latency and idle benches, the landmark model's modules when landmark-modules.sh has gathered them (for LMD
# in evaluations there), and the packed datasets). Carry it with .gpu (and out/param-probe for the probe step).
# Usage: scripts/gpu/bundle.sh [PACKED_DATASET_DIR ...]
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
mkdir -p out/gpu-libs
cp -L /lib/x86_64-linux-gnu/libvpx.so.7 /lib/x86_64-linux-gnu/libopenh264.so.7 out/gpu-libs/
landmarks=()
[ -d out/gpu-landmarks/node_modules ] && landmarks=(-C out/gpu-landmarks node_modules)
tar -cJf out/gpu-bundle.tar.xz engine/dist out/gpu-build/splatcast_engine.node node_modules/zod node_modules/pngjs \
  server/dist server/native/build/splatcast_media.node node_modules/@splatcast/engine out/gpu-libs "$@" "${landmarks[@]}"
du -sh out/gpu-bundle.tar.xz
