#!/usr/bin/env bash
# On the GPU machine (the device tool runs it in the repository root): unpacks the bundle and packed datasets, then
# runs the given steps, each logged under $OUT. Steps: test (npm run test:gpu), bench-train, bench-render,
# train:NAME (train and evaluate dataset NAME, weights split for the trip back). Results are tarred into
# $OUT/results.tar; weights come back as $OUT/NAME-weights.partXX (reassemble with cat).
set -uo pipefail
source .gpu/env.sh
tar -xJf out/gpu-bundle.tar.xz
export SPLATCAST_BUILD_DIR=$PWD/out/gpu-build
cli="node engine/dist/cli/main.js"
mkdir -p /tmp/r
for step in "$@"; do
  echo "=== $step $(date +%T)"
  case $step in
    test) node --test engine/dist/testing/gpu/ > /tmp/r/test-gpu.log 2>&1; tail -5 /tmp/r/test-gpu.log ;;
    bench-train) node engine/dist/bench/train.js ${BENCH_ARGS:-} --json /tmp/r/bench-train.json > /tmp/r/bench-train.log 2>&1; head -9 /tmp/r/bench-train.log ;;
    bench-render) node engine/dist/bench/render.js --json /tmp/r/bench-render.json > /tmp/r/bench-render.log 2>&1; head -24 /tmp/r/bench-render.log ;;
    train:*)
      name=${step#train:}
      python3 scripts/gpu/unpack-dataset.py out/gpu-data/$name /tmp/ds/$name
      start=$SECONDS
      timeout -s INT ${TRAIN_TIMEOUT:-300} $cli train --dataset /tmp/ds/$name --out /tmp/id/$name --device cuda \
        --report /tmp/r/train-$name.json ${TRAIN_ARGS:-} > /tmp/r/train-$name.log 2>&1
      echo "train $name: exit $? in $((SECONDS - start)) s"; tail -c 600 /tmp/r/train-$name.log | tr '\r' '\n' | tail -4
      $cli eval --identity /tmp/id/$name --dataset /tmp/ds/$name --device cuda --no-landmarks --no-video \
        --out /tmp/r/eval-$name > /tmp/r/eval-$name.log 2>&1
      grep -E '"(psnr|psnrFace|ssimFace|frames)"' /tmp/r/eval-$name.log | head -4
      cp /tmp/id/$name/identity.json /tmp/r/identity-$name.json
      split -b 15M -d /tmp/id/$name/weights.safetensors "$OUT/$name-weights.part" ;;
  esac
done
tar -cf "$OUT/results.tar" -C /tmp/r .
ls -la "$OUT"
