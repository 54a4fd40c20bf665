// Image quality metrics of a rendered frame against its ground truth, both u8 RGB of one size: PSNR over the whole
// image or a masked region, and SSIM as 3DGS / the talking-head papers compute it (per channel, 11 x 11 Gaussian
// window, sigma 1.5, C1 = 0.01^2, C2 = 0.03^2), averaged over a region. Host code: evaluation runs a few dozen
// frames, not a training loop.

/** PSNR (dB, peak 1) over the pixels whose mask value is >= 128 (all pixels without a mask). */
export function psnr(image: Uint8Array, target: Uint8Array, mask?: Uint8Array): number {
  let se = 0;
  let n = 0;
  for (let p = 0; p < image.length / 3; p++) {
    if (mask && (mask[p] as number) < 128) continue;
    for (let c = 0; c < 3; c++) se += (((image[3 * p + c] as number) - (target[3 * p + c] as number)) / 255) ** 2;
    n += 3;
  }
  if (n === 0) return Number.NaN;
  return 10 * Math.log10(1 / Math.max(1e-12, se / n));
}

const WINDOW = (() => {
  const g = Array.from({ length: 11 }, (_, i) => Math.exp(-((i - 5) ** 2) / (2 * 1.5 * 1.5)));
  const sum = g.reduce((a, b) => a + b, 0);
  return g.map((v) => v / sum);
})();

/** One channel blurred by the separable window, zero padding (as 3DGS's conv2d with padding 5). */
function blur(x: Float64Array, size: number): Float64Array {
  const tmp = new Float64Array(x.length);
  const out = new Float64Array(x.length);
  for (let y = 0; y < size; y++)
    for (let i = 0; i < size; i++) {
      let s = 0;
      for (let k = -5; k <= 5; k++) {
        const j = i + k;
        if (j >= 0 && j < size) s += (WINDOW[k + 5] as number) * (x[y * size + j] as number);
      }
      tmp[y * size + i] = s;
    }
  for (let y = 0; y < size; y++)
    for (let i = 0; i < size; i++) {
      let s = 0;
      for (let k = -5; k <= 5; k++) {
        const j = y + k;
        if (j >= 0 && j < size) s += (WINDOW[k + 5] as number) * (tmp[j * size + i] as number);
      }
      out[y * size + i] = s;
    }
  return out;
}

/** Mean SSIM over the masked pixels (mask >= 128; all pixels without a mask) of square images `size` wide. */
export function ssim(image: Uint8Array, target: Uint8Array, size: number, mask?: Uint8Array): number {
  const C1 = 0.01 ** 2;
  const C2 = 0.03 ** 2;
  const pixels = size * size;
  let sum = 0;
  let n = 0;
  for (let c = 0; c < 3; c++) {
    const x = new Float64Array(pixels);
    const y = new Float64Array(pixels);
    for (let p = 0; p < pixels; p++) {
      x[p] = (image[3 * p + c] as number) / 255;
      y[p] = (target[3 * p + c] as number) / 255;
    }
    const mx = blur(x, size);
    const my = blur(y, size);
    const xx = blur(
      x.map((v) => v * v),
      size,
    );
    const yy = blur(
      y.map((v) => v * v),
      size,
    );
    const xy = blur(
      x.map((v, p) => v * (y[p] as number)),
      size,
    );
    for (let p = 0; p < pixels; p++) {
      if (mask && (mask[p] as number) < 128) continue;
      const [a, b] = [mx[p] as number, my[p] as number];
      const vx = (xx[p] as number) - a * a;
      const vy = (yy[p] as number) - b * b;
      const cov = (xy[p] as number) - a * b;
      sum += ((2 * a * b + C1) * (2 * cov + C2)) / ((a * a + b * b + C1) * (vx + vy + C2));
      n++;
    }
  }
  return n === 0 ? Number.NaN : sum / n;
}
