import t from 'tap';
import { pairedDifference } from '../src/bench/paired.js';
import { pearson } from '../src/eval/correlation.js';

t.test('paired difference: mean and standard error of the per-frame differences', async (t) => {
  // Differences 1, 2, 3, 4: mean 2.5, sample variance 5/3, standard error sqrt(5/12).
  const r = pairedDifference([11, 12, 13, 14], [10, 10, 10, 10]);
  t.equal(r.n, 4);
  t.equal(r.mean, 2.5);
  t.ok(Math.abs(r.standardError - Math.sqrt(5 / 12)) < 1e-12, `standard error ${r.standardError}`);
  // A shared frame-to-frame swing cancels: a constant offset has zero error however much the frames vary.
  const swing = [1, 9, 3, 7, 5];
  const offset = pairedDifference(
    swing.map((v) => v + 0.5),
    swing,
  );
  t.equal(offset.mean, 0.5);
  t.equal(offset.standardError, 0);
});

t.test('paired difference: frames either side failed to score are left out', async (t) => {
  const r = pairedDifference([1, null, 3, 5], [0, 2, null, 4]);
  t.equal(r.n, 2);
  t.equal(r.mean, 1);
  t.ok(Number.isNaN(pairedDifference([1], [null]).mean), 'no pairs: NaN');
  t.ok(Number.isNaN(pairedDifference([2], [1]).standardError), 'one pair: no error estimate');
  t.throws(() => pairedDifference([1, 2], [1]), RangeError);
});

t.test('Pearson correlation: sign and scale free, null when undefined', async (t) => {
  t.equal(pearson([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  t.equal(pearson([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  // x = 1..4, y = 1, 3, 2, 4: covariance 4, both sums of squares 5.
  t.ok(Math.abs((pearson([1, 2, 3, 4], [1, 3, 2, 4]) as number) - 0.8) < 1e-12);
  t.equal(pearson([1, 2], [1, 2]), null, 'two values');
  t.equal(pearson([1, 2, 3], [5, 5, 5]), null, 'a constant series');
  t.equal(pearson([1, 2, 3], [1, 2]), null, 'unequal lengths');
});
