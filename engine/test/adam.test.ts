import t from 'tap';
import { Tensor } from '../src/tensor.js';
import { rng, uniform } from '../src/testing/random.js';
import { Adam } from '../src/train/adam.js';
import { constant, exponentialDecay } from '../src/train/schedule.js';

/** Float64 AdamW, the textbook update. */
function referenceStep(
  p: Float64Array,
  g: ArrayLike<number>,
  m: Float64Array,
  v: Float64Array,
  step: number,
  lr: number,
  wd: number,
  scale = 1,
) {
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  for (let i = 0; i < p.length; i++) {
    const gi = (g[i] as number) * scale;
    m[i] = b1 * (m[i] as number) + (1 - b1) * gi;
    v[i] = b2 * (v[i] as number) + (1 - b2) * gi * gi;
    const mh = (m[i] as number) / (1 - b1 ** step);
    const vh = (v[i] as number) / (1 - b2 ** step);
    p[i] = (p[i] as number) - lr * (mh / (Math.sqrt(vh) + eps) + wd * (p[i] as number));
  }
}

t.test('AdamW matches the float64 update over several steps, per group', async (t) => {
  const random = rng(3);
  const n = 1000;
  const init = uniform(random, n);
  const params = Tensor.from('cpu', 'f32', [n], init);
  const grads = Tensor.zeros('cpu', 'f32', [n]);
  const adam = new Adam([{ name: 'w', params, grads, lr: exponentialDecay(1e-2, 1e-3, 10), weightDecay: 0.01 }], {
    eps: 1e-8,
  });
  const p = Float64Array.from(init);
  const m = new Float64Array(n);
  const v = new Float64Array(n);
  for (let step = 1; step <= 10; step++) {
    const g = uniform(random, n);
    grads.write(g);
    adam.update();
    referenceStep(p, g, m, v, step, exponentialDecay(1e-2, 1e-3, 10)(step), 0.01);
  }
  const got = params.read();
  const worst = Math.max(...Array.from(got, (x, i) => Math.abs(x - (p[i] as number))));
  t.ok(worst < 1e-6, `max error ${worst}`);
  t.equal(adam.step, 10);
});

t.test('global gradient-norm clipping scales every group', async (t) => {
  const a = Tensor.from('cpu', 'f32', [2], new Float32Array([0, 0]));
  const ga = Tensor.from('cpu', 'f32', [2], new Float32Array([3, 0]));
  const b = Tensor.from('cpu', 'f32', [1], new Float32Array([0]));
  const gb = Tensor.from('cpu', 'f32', [1], new Float32Array([4]));
  const adam = new Adam(
    [
      { name: 'a', params: a, grads: ga, lr: constant(0.1) },
      { name: 'b', params: b, grads: gb, lr: constant(0.1) },
    ],
    { maxGradNorm: 1, eps: 1e-8 },
  );
  t.equal(adam.gradNorm(), 5);
  t.same(adam.update(), { gradNorm: 5 });
  // Adam's first step moves each coordinate by about lr * sign(g), whatever the scale: the moments saw g / 5.
  const { m } = adam.moments('b');
  t.ok(Math.abs((m.read()[0] as number) - 0.1 * (4 / 5)) < 1e-6, 'moment holds the clipped gradient');
  gb.write(new Float32Array([Number.NaN]));
  t.throws(() => adam.update(), /gradient norm is NaN at step 2/);
});

t.test('replace() keeps the moments of carried rows and zeroes new ones', async (t) => {
  const params = Tensor.from('cpu', 'f32', [6], new Float32Array(6));
  const grads = Tensor.from('cpu', 'f32', [6], new Float32Array([1, 1, 2, 2, 3, 3]));
  const adam = new Adam([{ name: 'xy', params, grads, lr: constant(0.01) }]);
  adam.update();
  const before = adam.moments('xy').m.read().slice();
  const grown = Tensor.zeros('cpu', 'f32', [8]);
  adam.replace('xy', grown, Tensor.zeros('cpu', 'f32', [8]), Int32Array.from([2, 0, -1, 2]), 2);
  t.same([...adam.moments('xy').m.read()], [before[4], before[5], before[0], before[1], 0, 0, before[4], before[5]]);
  t.throws(() => adam.replace('xy', grown, grown, Int32Array.from([0]), 2), /carry has 1 rows of 2/);
  t.throws(() => adam.moments('nope'), /no group named "nope"/);
  t.throws(() => adam.add({ name: 'xy', params, grads, lr: constant(1) }), /exists already/);
});

t.test('schedules', async (t) => {
  const s = exponentialDecay(1.6e-4, 1.6e-6, 30000);
  t.ok(Math.abs(s(0) - 1.6e-4) < 1e-12);
  t.ok(Math.abs(s(30000) - 1.6e-6) < 1e-12);
  t.ok(Math.abs(s(15000) - 1.6e-5) < 1e-11, 'geometric midpoint');
  const warm = exponentialDecay(1, 1, 10, 4, 0.01);
  t.ok(warm(1) < warm(2) && warm(2) < warm(3) && warm(4) === 1);
  t.throws(() => exponentialDecay(0, 1, 1), /must be > 0/);
});
