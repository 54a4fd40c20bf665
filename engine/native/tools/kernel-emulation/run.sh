#!/bin/sh
# Full run: ASan/UBSan over every case (free-running threads, std::barrier), then the schedule-permutation race
# check (bit-identical hashes expected), then 4 concurrent blocks (atomics). Logs in out/kernel-emulation/logs/.
cd "$(dirname "$0")" && make -s && H=../../../../out/kernel-emulation/harness && L=../../../../out/kernel-emulation/logs && mkdir -p $L
$H all > $L/asan_all.log 2>&1; echo "asan all: rc $?  $(grep -c 'ERROR: AddressSanitizer\|runtime error' $L/asan_all.log) sanitizer reports"
for spec in 33 "100,7,0,64,3000:0,1,2,0,1" 5000; do
  for k in face mouth; do
    for s in 1 2 3 4; do
      EMU_SCHEDULE=$s $H $k "$spec" 2>&1 | grep -E 'hash|=>|ERROR|runtime error' > $L/sched_${k}_${spec%%:*}_$s.log
    done
    echo "$k $spec: distinct results over 4 schedules: $(md5sum $L/sched_${k}_${spec%%:*}_*.log | cut -d' ' -f1 | sort -u | wc -l)"
  done
done
EMU_CONCURRENT_BLOCKS=4 $H all "30000,0,17999,1:0,1,0,2" > $L/concurrent.log 2>&1; echo "concurrent blocks: rc $?"
