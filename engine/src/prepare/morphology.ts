// Square-window filters of square 0/1 maps (size x size, row-major), each as two separable passes with a sliding
// count or sum along every line, so their cost does not grow with the radius.

/** The (2r+1)-wide sliding count of `set` pixels along every line, written as 0/1 `where(count, window)`. */
function slide(
  map: Uint8Array,
  size: number,
  r: number,
  outside: 0 | 1,
  keep: (count: number, window: number) => boolean,
) {
  const pass = (src: Uint8Array, stride: number, step: number) => {
    const out = new Uint8Array(src.length);
    const window = 2 * r + 1;
    for (let line = 0; line < size; line++) {
      const base = line * stride;
      const at = (k: number) => (k < 0 || k >= size ? outside : (src[base + k * step] as number) ? 1 : 0);
      let count = 0;
      for (let k = -r; k < r; k++) count += at(k);
      for (let x = 0; x < size; x++) {
        count += at(x + r);
        out[base + x * step] = keep(count, window) ? 1 : 0;
        count -= at(x - r);
      }
    }
    return out;
  };
  return pass(pass(map, size, 1), 1, size);
}

/** Erosion by a (2r+1)² square: a pixel stays set only if every pixel within r (Chebyshev) is set; pixels outside
 * the frame count as set, so the frame's edge does not eat into a mask. */
export function erode(map: Uint8Array, size: number, r: number): Uint8Array {
  return slide(map, size, r, 1, (count, window) => count === window);
}

/** Dilation by a (2r+1)² square: a pixel is set if any pixel within r is set (outside the frame: unset). */
export function dilate(map: Uint8Array, size: number, r: number): Uint8Array {
  return slide(map, size, r, 0, (count) => count > 0);
}

/** Mean of a 0/1 map over a (2r+1)² square (edges clamped): soft coverage 0..1. */
export function boxBlur(map: Uint8Array, size: number, r: number): Float32Array {
  const pass = (src: ArrayLike<number>, stride: number, step: number) => {
    const out = new Float32Array(size * size);
    const norm = 1 / (2 * r + 1);
    for (let line = 0; line < size; line++) {
      const base = line * stride;
      const at = (k: number) => src[base + Math.min(size - 1, Math.max(0, k)) * step] as number;
      let sum = 0;
      for (let k = -r; k < r; k++) sum += at(k);
      for (let x = 0; x < size; x++) {
        sum += at(x + r);
        out[base + x * step] = sum * norm;
        sum -= at(x - r);
      }
    }
    return out;
  };
  return pass(pass(map, size, 1), 1, size);
}
