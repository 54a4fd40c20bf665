#!/usr/bin/env bash
# Builds out/gpu-sfu-bundle.tar.xz: what the capacity step (the load tester against the whole server, WebRTC both
# ways, on the GPU machine) needs besides the tracked sources: every workspace's build, the sm_90 addon, the media
# addon, the mediasoup worker, and the Debian libraries they link that a bare host lacks. Which packages: the ones a
# short local run opens (server on the CPU engine, one load-test session, under strace), since the production
# dependency tree (onnxruntime, the face models, ...) is ten times what streaming loads. Small packages travel whole
# (a lazily loaded file the short run missed is still there), large ones (native binaries) as the files it opened.
# The speech the clients send travels as out/gpu-sfu/speech.wav. Carry the bundle with .gpu; run.sh's capacity step
# unpacks it.  Usage: scripts/gpu/sfu-bundle.sh [SPEECH.wav]
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
command -v strace > /dev/null || { echo "sfu-bundle.sh needs strace (apt-get install strace)" >&2; exit 1; }
speech=${1:-../shared/media/audio/en_long_60s.wav}
[ -f out/gpu-build/splatcast_engine.node ] || { echo "build the sm_90 addon into out/gpu-build first" >&2; exit 1; }
work=$(mktemp -d)
# Killing strace would leave the server running (strace detaches): the server's own pid is what gets signalled.
trap '[ -f $work/pid ] && kill $(cat $work/pid) 2> /dev/null; rm -rf $work' EXIT
port=$((20000 + RANDOM % 20000))
cat > $work/server.json << EOF
{"http": {"host": "127.0.0.1", "port": $port, "demo": false}, "engine": {"device": "cpu", "width": 128, "height": 128},
 "identities": {"fixtureFaceGaussians": 1500, "fixtureMouthGaussians": 300}, "admin": {"enabled": false, "dataDir": "$work/data"}}
EOF
strace -f -qq -s 4096 -e trace=openat,execve -o $work/server.trace \
  bash -c "echo \$\$ > $work/pid; exec node server/dist/main.js --config $work/server.json" > $work/server.log 2>&1 &
for _ in $(seq 90); do grep -q "streaming on" $work/server.log && break; sleep 1; done
grep -q "streaming on" $work/server.log || { cat $work/server.log >&2; exit 1; }
strace -f -qq -s 4096 -e trace=openat,execve -o $work/loadtest.trace node loadtest/dist/cli.js --url ws://127.0.0.1:$port/v1/stream \
  --audio "$speech" --sessions 1 --duration 3 --out $work/result > $work/loadtest.log 2>&1 || { cat $work/loadtest.log >&2; exit 1; }
kill $(cat $work/pid)
wait
root=$PWD/
cat $work/*.trace | grep -v ENOENT | grep -oE "\"$root[^\"]+\"" | tr -d '"' | sed "s#^$root##" | sort -u > $work/opened
# Packages: node_modules/NAME or node_modules/@SCOPE/NAME (the workspaces' links travel as links).
grep '^node_modules/' $work/opened | grep -v '^node_modules/@splatcast/' |
  awk -F/ '{ print ($2 ~ /^@/) ? $1 "/" $2 "/" $3 : $1 "/" $2 }' | sort -u > $work/packages
while read -r p; do
  if [ "$(du -sm "$p" | cut -f1)" -lt 8 ]; then echo "$p"; continue; fi
  echo "$p/package.json"
  grep "^$p/" $work/opened | while read -r f; do [ -f "$f" ] && echo "$f"; done
done < $work/packages | sort -u > $work/list
ls -d */dist */package.json package.json node_modules/@splatcast/* >> $work/list
echo server/native/build/splatcast_media.node >> $work/list
# Libraries of the native parts beyond glibc, libstdc++ and libgcc (which every host has).
mkdir -p out/gpu-sfu
rm -f out/gpu-sfu/*.so*
for bin in node_modules/mediasoup/worker/out/Release/mediasoup-worker server/native/build/splatcast_media.node; do
  ldd $bin | awk '$3 ~ /^\// { print $3 }' | grep -vE '/(libc|libm|libdl|librt|libpthread|libstdc\+\+|libgcc_s)\.so' |
    xargs -r cp -L -t out/gpu-sfu/
done
# Debian's libsrtp2 does its crypto with NSS, which dlopens its soft token at start (ldd does not list it): without
# it there, srtp_init() fails its cipher self-test and the mediasoup worker aborts (seen on the GPU host, 2026-12-08).
cp -L /usr/lib/x86_64-linux-gnu/{libsoftokn3,libfreeblpriv3,libfreebl3,libnssdbm3}.{so,chk} out/gpu-sfu/
cp "$speech" out/gpu-sfu/speech.wav
tar -cJf out/gpu-sfu-bundle.tar.xz -T $work/list out/gpu-build/splatcast_engine.node out/gpu-sfu
du -sh out/gpu-sfu-bundle.tar.xz
