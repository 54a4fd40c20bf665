import t from 'tap';
import { percentile, summarize } from '../src/percentiles.js';

t.test('percentiles interpolate between ranks', async (t) => {
  const xs = [10, 20, 30, 40, 50];
  t.equal(percentile(xs, 0), 10);
  t.equal(percentile(xs, 1), 50);
  t.equal(percentile(xs, 0.5), 30);
  t.equal(percentile(xs, 0.95), 48, '0.95 × 4 = rank 3.8: 40 + 0.8 × 10');
  t.equal(percentile([7], 0.95), 7, 'one sample is every percentile');
  t.ok(Number.isNaN(percentile([], 0.5)), 'no samples: NaN, never a made-up 0');
  t.throws(() => percentile(xs, 1.5), RangeError);
  t.throws(() => percentile(xs, Number.NaN), RangeError);
});

t.test('summaries sort, skip non-finite samples and report the count', async (t) => {
  const s = summarize([5, 1, Number.NaN, 3, Number.POSITIVE_INFINITY, 2, 4]);
  t.match(s, { count: 5, min: 1, max: 5, mean: 3, p50: 3 });
  t.equal(s.p99, 4.96);
  const empty = summarize([]);
  t.equal(empty.count, 0);
  t.ok(Number.isNaN(empty.p95) && Number.isNaN(empty.mean));
});
