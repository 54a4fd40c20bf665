// Anti-aliased polygon coverage on a square pixel grid: each pixel row is cut by a few horizontal scanlines, and
// along each scanline the covered span adds its exact length to the pixels it crosses. Pixel i covers [i, i + 1),
// the landmarks' convention. Even-odd rule (the mesh's outlines are simple polygons).

const SCANLINES = 4;

/**
 * Writes the coverage (0..1) of the polygon `points` ([x0, y0, x1, y1, ...], pixels) into `out` (size x size,
 * row-major), replacing what was there.
 */
export function fillPolygon(out: Float32Array, size: number, points: ArrayLike<number>): Float32Array {
  out.fill(0);
  const n = points.length / 2;
  if (n < 3) return out;
  let [minY, maxY] = [Infinity, -Infinity];
  for (let i = 0; i < n; i++) {
    minY = Math.min(minY, points[2 * i + 1] as number);
    maxY = Math.max(maxY, points[2 * i + 1] as number);
  }
  const crossings: number[] = [];
  const first = Math.max(0, Math.floor(minY));
  const last = Math.min(size - 1, Math.floor(maxY));
  const share = 1 / SCANLINES;
  for (let row = first; row <= last; row++) {
    const line = row * size;
    for (let k = 0; k < SCANLINES; k++) {
      const y = row + (k + 0.5) * share;
      crossings.length = 0;
      for (let i = 0, j = n - 1; i < n; j = i++) {
        const [xi, yi] = [points[2 * i] as number, points[2 * i + 1] as number];
        const [xj, yj] = [points[2 * j] as number, points[2 * j + 1] as number];
        if (yi > y !== yj > y) crossings.push(xi + ((y - yi) / (yj - yi)) * (xj - xi));
      }
      crossings.sort((a, b) => a - b);
      for (let c = 0; c + 1 < crossings.length; c += 2) {
        const a = Math.max(0, crossings[c] as number);
        const b = Math.min(size, crossings[c + 1] as number);
        if (b <= a) continue;
        const [ia, ib] = [Math.floor(a), Math.floor(b)];
        if (ia === ib) {
          out[line + ia] = (out[line + ia] as number) + (b - a) * share;
          continue;
        }
        out[line + ia] = (out[line + ia] as number) + (ia + 1 - a) * share;
        for (let x = ia + 1; x < ib; x++) out[line + x] = (out[line + x] as number) + share;
        if (ib < size) out[line + ib] = (out[line + ib] as number) + (b - ib) * share;
      }
    }
  }
  return out;
}
