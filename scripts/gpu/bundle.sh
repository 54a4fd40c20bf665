#!/usr/bin/env bash
# Builds out/gpu-bundle.tar.xz: what the engine needs on the lent GPU machine besides the tracked sources (the built
# JavaScript, the addon built for sm_90 into out/gpu-build, the only two runtime packages training loads, and the
# packed datasets). Carry it with .gpu (and out/param-probe for the probe step).
# Usage: scripts/gpu/bundle.sh [PACKED_DATASET_DIR ...]
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
tar -cJf out/gpu-bundle.tar.xz engine/dist out/gpu-build/splatcast_engine.node node_modules/zod node_modules/pngjs "$@"
du -sh out/gpu-bundle.tar.xz
