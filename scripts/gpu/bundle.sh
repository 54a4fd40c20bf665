#!/usr/bin/env bash
# Builds out/gpu-bundle.tar.xz: what the engine needs on the lent GPU machine besides the tracked sources (the built
# JavaScript, the only two runtime packages training and evaluation load, the packed datasets' small files).
# The addon (built for sm_90 into out/gpu-build) and the packed videos travel as they are (carry them).
# Usage: scripts/gpu/bundle.sh [PACKED_DATASET_DIR ...]
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
small=()
for d in "$@"; do small+=("$d/dataset.json" "$d/audio" "$d/masks" "$d/plates"); done
tar -cJf out/gpu-bundle.tar.xz engine/dist node_modules/zod node_modules/pngjs "${small[@]}"
du -sh out/gpu-bundle.tar.xz
