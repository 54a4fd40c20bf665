#!/usr/bin/env bash
# On the GPU machine (the device tool runs it in the repository root): unpacks the bundle and packed datasets, then
# runs the given steps, each logged under $OUT. Steps: probe (out/param-probe: large kernel parameter blocks), kernels,
# test (npm run test:gpu), bench-train, bench-render, latency and idle (the server's benches), train:NAME (train and evaluate dataset NAME, weights split for
# the trip back), pretrain (a motion prior from every out/gpu-data/*-pretrain), adapt:NAME (adapt dataset NAME from
# that prior, evaluate, weights split like train's), ablation:PERSON (bench:ablation for one held-out clip, with
# landmarks when the bundle has their modules), capacity (the load tester's --find-capacity against the whole server
# on this GPU, clients on this machine's CPUs; needs out/gpu-sfu-bundle.tar.xz from sfu-bundle.sh; CAPACITY_ARGS). GPU memory is sampled every 200 ms into gpu-memory.csv throughout.
# Logs are written straight into $OUT/r, so a call that runs out of time still brings back what it did; DEADLINE
# (seconds from the start, default 560) caps every step's timeout below the device tool's 600 s. Weights come back as
# $OUT/NAME-weights.partXX (reassemble with cat).
set -uo pipefail
source .gpu/env.sh
for bundle in out/gpu-bundle.tar.xz out/gpu-sfu-bundle.tar.xz; do [ -f $bundle ] && tar -xJf $bundle; done
export SPLATCAST_BUILD_DIR=$PWD/out/gpu-build
cli="node engine/dist/cli/main.js"
r=$OUT/r
mkdir -p $r
# Seconds a step may run: its own limit, or what is left before the deadline (less RESERVE seconds kept for what the
# step does afterwards) if that is less. Usage: budget LIMIT [RESERVE]
budget() { local left=$(( ${DEADLINE:-560} - SECONDS - ${2:-0} )); echo $(( left < $1 ? (left > 1 ? left : 1) : $1 )); }
# Unpacks every out/gpu-data/*-pretrain into DEST/NAME (in parallel, skipping what is there); prints the folders.
unpack_pretrain_sets() {
  local pids=() d
  for d in out/gpu-data/*-pretrain; do
    [ -d $1/$(basename $d) ] || { python3 scripts/gpu/unpack-dataset.py $d $1/$(basename $d) >&2 & pids+=($!); }
    echo $1/$(basename $d)
  done
  wait "${pids[@]}"  # these only: a bare wait would also wait for the memory sampler, which never ends
}
nvidia-smi --query-gpu=timestamp,memory.used,utilization.gpu --format=csv,noheader -lms 200 > $r/gpu-memory.csv 2>&1 &
sampler=$!
for step in "$@"; do
  echo "=== $step $(date +%T) (${SECONDS} s)"
  case $step in
    probe) ./out/param-probe | tee $r/param-probe.log ;;
    kernels)  # the fused motion-field backwards against their CPU twins; on a failure, compute-sanitizer's report
      if node --test engine/dist/testing/gpu/motion-field-backward.test.js > $r/kernels.log 2>&1; then
        echo "fused kernels: parity"
      else
        grep -E "^not ok|error" $r/kernels.log | head -8
        timeout $(budget 240) compute-sanitizer --tool memcheck --print-limit 20 \
          node --test engine/dist/testing/gpu/motion-field-backward.test.js > $r/sanitizer.log 2>&1
        grep -m 12 -E "Invalid|at |by thread|Address|ERROR SUMMARY" $r/sanitizer.log
      fi ;;
    test) timeout $(budget 300) node --test engine/dist/testing/gpu/ > $r/test-gpu.log 2>&1; tail -5 $r/test-gpu.log ;;
    bench-train) timeout $(budget 300) node engine/dist/bench/train.js ${BENCH_ARGS:-} --json $r/bench-train.json > $r/bench-train.log 2>&1; head -9 $r/bench-train.log ;;
    bench-render) timeout $(budget 300) node engine/dist/bench/render.js --json $r/bench-render.json > $r/bench-render.log 2>&1; head -24 $r/bench-render.log ;;
    latency)  # server side, audio arrival to encoded frame, a generated fixture identity at 512²
      LD_LIBRARY_PATH=$PWD/out/gpu-libs timeout $(budget ${LATENCY_TIMEOUT:-150}) node server/dist/bench/latency.js \
        --sessions ${LATENCY_SESSIONS:-1,8,32} --seconds ${LATENCY_SECONDS:-8} --size 512 --device cuda \
        --out $r/latency.json > $r/latency.log 2>&1; tail -6 $r/latency.log ;;
    idle)
      LD_LIBRARY_PATH=$PWD/out/gpu-libs timeout $(budget 150) node server/dist/bench/idle.js --sessions 1,4,16 \
        --seconds 10 --warmup 6 --size 512 --device cuda --out $r/idle.json > $r/idle.log 2>&1; tail -9 $r/idle.log ;;
    pretrain)
      mapfile -t sets < <(unpack_pretrain_sets /tmp/ds)
      start=$SECONDS
      timeout -k 20 -s INT $(budget ${PRETRAIN_TIMEOUT:-400}) $cli pretrain --datasets "${sets[@]}" --out /tmp/prior.safetensors \
        --device cuda --report $r/pretrain.json ${PRETRAIN_ARGS:-} > $r/pretrain.log 2>&1
      echo "pretrain: exit $? in $((SECONDS - start)) s"; tail -c 800 $r/pretrain.log | tr '\r' '\n' | tail -6
      [ -f /tmp/prior.safetensors ] && split -b 15M -d /tmp/prior.safetensors "$OUT/prior.part" ;;
    ablation:*)  # bench:ablation for one held-out person (a clip name): its prior from the other clips, the variants,
      # scored with landmarks; scores, the run's JSON and the full identity's weights come back
      person=${step#ablation:}
      mkdir -p /tmp/media
      # bench:ablation lists the clips from --media; the datasets stand in for them (it prepares only what is missing)
      for d in $(unpack_pretrain_sets out/ablation/datasets); do touch /tmp/media/$(basename ${d%-pretrain}).mp4; done
      echo "unpacked (${SECONDS} s)"
      timeout -k 20 -s INT $(budget ${ABLATION_TIMEOUT:-540} 25) node engine/dist/bench/ablation.js --device cuda \
        --media /tmp/media --held $person.mp4 --work out/ablation --json $r/ablation-$person.json \
        --variants ${ABLATION_VARIANTS:-scratch,full,prior,prior+aligner,prior+hook} ${ABLATION_ARGS:-} > $r/ablation-$person.log 2>&1
      echo "ablation $person: exit $? (${SECONDS} s)"; grep -E "^\| $person|^\[pretrain.*(done|iteration)" $r/ablation-$person.log | tail -12
      tar -czf $OUT/ablation-$person-scores.tgz out/ablation/identities/*.score.json out/ablation/*.run.json \
        out/ablation/identities/$person-full/identity.json 2>/dev/null
      [ -f out/ablation/identities/$person-full/weights.safetensors ] &&
        split -b 15M -d out/ablation/identities/$person-full/weights.safetensors "$OUT/$person-full-weights.part" ;;
    adapt:*)
      name=${step#adapt:}
      [ -d /tmp/ds/$name ] || python3 scripts/gpu/unpack-dataset.py out/gpu-data/$name /tmp/ds/$name
      start=$SECONDS
      timeout -k 20 -s INT $(budget ${TRAIN_TIMEOUT:-300}) $cli adapt --prior /tmp/prior.safetensors --dataset /tmp/ds/$name \
        --out /tmp/id/$name --device cuda --report $r/adapt-$name.json > $r/adapt-$name.log 2>&1
      echo "adapt $name: exit $? in $((SECONDS - start)) s"; tail -c 600 $r/adapt-$name.log | tr '\r' '\n' | tail -4
      timeout $(budget 120) $cli eval --identity /tmp/id/$name --dataset /tmp/ds/$name --device cuda --no-landmarks --no-video \
        --out $r/eval-adapt-$name > $r/eval-adapt-$name.log 2>&1
      grep -E '"(psnr|psnrFace|ssimFace|frames)"' $r/eval-adapt-$name.log | head -4
      cp /tmp/id/$name/identity.json $r/identity-adapt-$name.json
      split -b 15M -d /tmp/id/$name/weights.safetensors "$OUT/adapt-$name-weights.part" ;;
    train:*)
      name=${step#train:}
      python3 scripts/gpu/unpack-dataset.py out/gpu-data/$name /tmp/ds/$name
      start=$SECONDS
      timeout -k 20 -s INT $(budget ${TRAIN_TIMEOUT:-300}) $cli train --dataset /tmp/ds/$name --out /tmp/id/$name --device cuda \
        --report $r/train-$name.json ${TRAIN_ARGS:-} > $r/train-$name.log 2>&1
      echo "train $name: exit $? in $((SECONDS - start)) s"; tail -c 600 $r/train-$name.log | tr '\r' '\n' | tail -4
      timeout $(budget 120) $cli eval --identity /tmp/id/$name --dataset /tmp/ds/$name --device cuda --no-landmarks --no-video \
        --out $r/eval-$name > $r/eval-$name.log 2>&1
      grep -E '"(psnr|psnrFace|ssimFace|frames)"' $r/eval-$name.log | head -4
      cp /tmp/id/$name/identity.json $r/identity-$name.json
      split -b 15M -d /tmp/id/$name/weights.safetensors "$OUT/$name-weights.part" ;;
    capacity)  # the server at 512² on the GPU, generated fixture identity (20k + 4k Gaussians, as bench:latency):
      # two engine workers of 64 sessions (one worker's default 32 would cap the search), 4 mediasoup workers
      echo '{"http": {"host": "127.0.0.1", "port": 8080, "demo": false}, "sessions": {"maxSessions": 256},
        "engine": {"device": "cuda", "width": 512, "height": 512, "workersPerDevice": 2, "maxSessionsPerWorker": 64},
        "media": {"workers": 4}, "admin": {"enabled": false, "dataDir": "/tmp/cap"}}' > /tmp/capacity-server.json
      LD_LIBRARY_PATH=$PWD/out/gpu-sfu node server/dist/main.js --config /tmp/capacity-server.json > $r/capacity-server.log 2>&1 &
      server=$!
      for _ in $(seq 60); do grep -q "streaming on" $r/capacity-server.log && break; sleep 1; done
      echo "server up? (${SECONDS} s)"; head -c 400 $r/capacity-server.log
      timeout -s INT $(budget ${CAPACITY_TIMEOUT:-540} 10) node loadtest/dist/cli.js --url ws://127.0.0.1:8080/v1/stream \
        --audio out/gpu-sfu/speech.wav --find-capacity --out $r/capacity ${CAPACITY_ARGS:-} > $r/capacity.log 2>&1
      echo "capacity: exit $? (${SECONDS} s)"; tail -30 $r/capacity.log
      kill $server ;;
  esac
done
kill $sampler
echo "=== done (${SECONDS} s)"; ls -la "$OUT"
