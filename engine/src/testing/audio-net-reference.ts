// Float64 references of AudioNet and AudioAttNet (the packed layouts documented in native/src/ops/audio_net.h), for
// the forward tests and the backward's finite differences. Inputs are plain number arrays, so a reference can be
// evaluated at perturbed weights.

const leaky = (v: number) => (v > 0 ? v : 0.02 * v);

class Params {
  offset = 0;
  constructor(readonly w: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> }) {}
  take(n: number): ArrayLike<number> {
    const out = this.w.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
}

/** x[t][c] (time-major, tin steps) -> y[t][o], kernel 3, padding 1, then LeakyReLU. */
function conv(p: Params, x: number[][], cout: number, stride: number): number[][] {
  const cin = (x[0] as number[]).length;
  const w = p.take(cout * cin * 3);
  const b = p.take(cout);
  const tout = Math.floor((x.length - 1) / stride) + 1;
  const y: number[][] = [];
  for (let t = 0; t < tout; t++) {
    const row: number[] = [];
    for (let o = 0; o < cout; o++) {
      let sum = b[o] as number;
      for (let k = 0; k < 3; k++) {
        const step = x[t * stride + k - 1];
        if (!step) continue;
        for (let c = 0; c < cin; c++) sum += (w[(o * cin + c) * 3 + k] as number) * (step[c] as number);
      }
      row.push(leaky(sum));
    }
    y.push(row);
  }
  return y;
}

function linear(p: Params, x: number[], out: number): number[] {
  const w = p.take(out * x.length);
  const b = p.take(out);
  return [...Array(out).keys()].map((o) =>
    x.reduce((s, v, i) => s + (w[o * x.length + i] as number) * v, b[o] as number),
  );
}

export function audioNetReference(w: Float64Array | Float32Array, window: number[][], codeDim: number): number[] {
  const p = new Params(w);
  let x = window;
  for (const cout of [32, 32, 64, 64]) x = conv(p, x, cout, 2);
  const code = linear(p, linear(p, x[0] as number[], 64).map(leaky), codeDim);
  if (p.offset !== w.length) throw new Error(`reference read ${p.offset} of ${w.length} weights`);
  return code;
}

export function audioAttNetReference(w: Float64Array | Float32Array, codes: number[][]): number[] {
  const p = new Params(w);
  let x = codes;
  for (const cout of [16, 8, 4, 2, 1]) x = conv(p, x, cout, 1);
  const z = linear(
    p,
    x.map((step) => step[0] as number),
    codes.length,
  );
  const top = Math.max(...z);
  const e = z.map((v) => Math.exp(v - top));
  const sum = e.reduce((a, b) => a + b, 0);
  const codeDim = (codes[0] as number[]).length;
  return [...Array(codeDim).keys()].map((c) =>
    codes.reduce((s, step, f) => s + ((e[f] as number) / sum) * (step[c] as number), 0),
  );
}

/** Rows of `count` steps of `width` values from a flat array: step t of row `row`. */
export const steps = (
  data: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> },
  row: number,
  count: number,
  width: number,
): number[][] =>
  [...Array(count).keys()].map((t) =>
    Array.from(data.subarray((row * count + t) * width, (row * count + t + 1) * width)),
  );
