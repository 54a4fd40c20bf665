#!/usr/bin/env bash
# Packs a prepared dataset small enough to travel to the lent GPU machine (the whole transfer is 64 MiB there):
# frames and torso plates as near-lossless H.264 4:4:4 (crf 6; ~48 dB PSNR against the PNGs, far below the ~30 dB
# a trained model reaches, measured by this script), the face and mouth masks, background plate, audio and manifest
# as they are. unpack-dataset.py rebuilds the PNG dataset there (OpenCV's bundled FFmpeg decodes it).
# Measurement tooling only: the product reads datasets as splatcast prepare writes them.
# Usage: [CRF=6] scripts/gpu/pack-dataset.sh DATASET_DIR OUT_DIR (a higher CRF for long clips that would not fit)
set -euo pipefail
src=$1
out=$2
mkdir -p "$out/masks" "$out/plates"
cp "$src/dataset.json" "$out/"
cp -r "$src/audio" "$out/"
cp "$src/plates/background.png" "$out/plates/"
cp -r "$src/masks/face" "$src/masks/mouth" "$out/masks/"
encode() {
  ffmpeg -v error -y -framerate 25 -i "$1/%06d.png" -c:v libx264 -preset slow -crf "${CRF:-6}" -pix_fmt yuv444p "$2"
  ffmpeg -v info -i "$2" -framerate 25 -i "$1/%06d.png" \
    -lavfi '[0:v]format=rgb24[a];[1:v]format=rgb24[b];[a][b]psnr' -f null - 2>&1 | grep -o 'average:[0-9.]*' | sed "s|^|$(basename "$2") PSNR |"
}
encode "$src/frames" "$out/frames.mkv"
encode "$src/plates/torso" "$out/torso.mkv"
du -sh "$out"
