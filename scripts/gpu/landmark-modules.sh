#!/usr/bin/env bash
# Copies the least of node_modules that the landmark model needs (tfjs core, converter and WASM backend with their
# .wasm files, seedrandom, and of @vladmandic/human only its package.json, main file and the three face models) into
# out/gpu-landmarks/node_modules, so that `splatcast eval` can score LMD on the lent GPU machine: all of those
# packages together are 300 MB, this is 10 MB. bundle.sh packs it.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
dest=out/gpu-landmarks/node_modules
rm -rf out/gpu-landmarks
mkdir -p "$dest"
copy() { mkdir -p "$dest/$(dirname "$1")"; cp -r "node_modules/$1" "$dest/$1"; }
for pkg in tfjs-core tfjs-converter tfjs-backend-wasm; do
  main=$(node -p "require('./node_modules/@tensorflow/$pkg/package.json').main")
  copy "@tensorflow/$pkg/package.json"
  copy "@tensorflow/$pkg/$main"
done
for wasm in node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm; do copy "${wasm#node_modules/}"; done
copy seedrandom
copy @vladmandic/human/package.json
copy @vladmandic/human/dist/human.node.js
for model in blazeface facemesh iris; do
  copy "@vladmandic/human/models/$model.json"
  copy "@vladmandic/human/models/$model.bin"
done
du -sh out/gpu-landmarks
