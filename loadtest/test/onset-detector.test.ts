import t from 'tap';
import { matchOnsets, OnsetDetector, onsetOffsets } from '../src/onset-detector.js';

/** Bursts of a 200 Hz tone at `level` from each start (ms) for `lengthMs`, silence elsewhere. */
function bursts(rate: number, totalMs: number, starts: number[], lengthMs: number, level = 0.3): Float32Array {
  const out = new Float32Array((rate * totalMs) / 1000);
  for (const s of starts)
    for (let i = (s * rate) / 1000; i < ((s + lengthMs) * rate) / 1000 && i < out.length; i++)
      out[i] = level * Math.sin((2 * Math.PI * 200 * i) / rate);
  return out;
}

t.test('onsets after enough silence, at 10 ms resolution', async (t) => {
  const signal = bursts(16000, 3000, [100, 1000, 1200, 2000], 150);
  // 1200 follows 1000+150 after only 50 ms of silence: not a new onset.
  t.same(
    onsetOffsets(signal, 16000).map((x) => x / 16),
    [100, 1000, 2000],
  );
  const quiet = bursts(16000, 1000, [100], 300, 0.001);
  t.same(onsetOffsets(quiet, 16000), [], '-60 dBFS stays below the -40 dBFS threshold');
  t.same(onsetOffsets(quiet, 16000, { thresholdDb: -70 }), [1600], 'a lower threshold hears it');
});

t.test('the streaming detector gives the same onsets in chunks of any size and stamps them in time', async (t) => {
  const signal = bursts(48000, 2000, [300, 1500], 200);
  const d = new OnsetDetector();
  const found: number[] = [];
  for (let at = 0; at < signal.length; at += 777)
    found.push(...d.push(signal.subarray(at, at + 777), 48000, 5000 + (at * 1000) / 48000));
  t.same(found.map(Math.round), [5300, 6500]);
  t.throws(() => d.push(signal, 0, 0), RangeError);
});

t.test('matching sent and heard onsets in order', async (t) => {
  const sent = [1000, 3000, 5000, 7000];
  t.same(matchOnsets(sent, [1250, 3240, 5260, 7230], 3000).latenciesMs, [250, 240, 260, 230]);
  // Latency longer than the spacing of the onsets still pairs them in order.
  t.same(matchOnsets(sent, [3500, 5500, 7500, 9500], 3000).latenciesMs, [2500, 2500, 2500, 2500]);
  const lost = matchOnsets(sent, [1250, 5260, 7230], 1000);
  t.same(lost.latenciesMs, [250, 260, 230]);
  t.equal(lost.missed, 1, 'the onset at 3000 never came back');
  const extra = matchOnsets(sent, [1250, 2000, 3240], 1500);
  t.same(extra.latenciesMs, [250, 240]);
  t.equal(extra.unmatched, 1, 'a dropout in the middle of speech heard as an onset matches nothing');
  const tail = matchOnsets(sent, [1250], 1000, 7500);
  t.equal(tail.missed, 2, 'at the end, 3000 and 5000 are overdue; 7000 may still come');
});
