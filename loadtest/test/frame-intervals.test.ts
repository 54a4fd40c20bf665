import t from 'tap';
import { frameIntervalStats, freezeThresholdMs } from '../src/frame-intervals.js';

const steady = (n: number, interval: number, from = 0) => Array.from({ length: n }, (_, i) => from + i * interval);

t.test('a steady 25 fps stream: 25 fps, no jitter, no freeze', async (t) => {
  const s = frameIntervalStats(steady(251, 40), 25);
  t.equal(s.frames, 251);
  t.equal(s.spanMs, 10_000);
  t.equal(s.fps, 25);
  t.equal(s.jitterMs, 0);
  t.equal(s.freezes, 0);
  t.equal(s.p95IntervalMs, 40);
});

t.test('jitter is the standard deviation of the intervals', async (t) => {
  // Intervals alternate 30 and 50 ms: mean 40, deviation 10.
  const arrivals = [0];
  for (let i = 1; i <= 100; i++) arrivals.push((arrivals[i - 1] as number) + (i % 2 ? 30 : 50));
  const s = frameIntervalStats(arrivals, 25);
  t.equal(s.fps, 25);
  t.equal(s.meanIntervalMs, 40);
  t.ok(Math.abs(s.jitterMs - 10) < 1e-9, `jitter ${s.jitterMs}`);
  t.equal(s.freezes, 0);
});

t.test('freezes: intervals over max(3 × frame interval, interval + 150 ms)', async (t) => {
  t.equal(freezeThresholdMs(25), 190, 'at 25 fps: 40 + 150');
  t.equal(freezeThresholdMs(5), 600, 'at 5 fps: 3 × 200');
  t.throws(() => freezeThresholdMs(0), RangeError);
  // 2 s steady, a 190 ms gap (not a freeze), a 191 ms gap and a 500 ms gap (freezes).
  const a = steady(50, 40);
  a.push((a.at(-1) as number) + 190);
  a.push((a.at(-1) as number) + 191);
  a.push(...steady(10, 40, (a.at(-1) as number) + 40));
  a.push((a.at(-1) as number) + 500);
  const s = frameIntervalStats(a, 25);
  t.equal(s.freezes, 2);
  t.equal(s.frozenMs, 691);
  t.equal(s.maxIntervalMs, 500);
});

t.test('degenerate inputs', async (t) => {
  t.match(frameIntervalStats([], 25), { frames: 0, fps: 0, freezes: 0 });
  t.match(frameIntervalStats([5], 25), { frames: 1, fps: 0, spanMs: 0 });
  t.throws(() => frameIntervalStats([10, 5], 25), /ascending/);
});
