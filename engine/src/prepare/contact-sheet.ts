// contact-sheet.png: a grid of frames spread over the clip, read back from the written dataset, with the landmarks
// drawn (face mesh green, irises cyan) and a border coloured by tracking status (green tracked, amber interpolated,
// red dropped), so a person can check the dataset at a glance. PNG via pngjs: pure JS (no native build), widely
// used, and synchronous encode/decode of whole images, which is all this needs.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PNG } from 'pngjs';
import type { FrameStatus } from './gaps.js';
import { MESH_POINTS } from './landmarks.js';

export interface SheetFrame {
  index: number;
  status: FrameStatus;
  /** Landmarks in pixels of the dataset frame, or null. */
  landmarks: number[] | null;
}

const STATUS_COLOUR: Record<FrameStatus, [number, number, number]> = {
  tracked: [40, 200, 80],
  interpolated: [240, 170, 20],
  dropped: [220, 40, 40],
};
const BORDER = 4;

/** Picks `count` frames spread evenly over the clip. */
export function sheetIndices(frameCount: number, count = 12): number[] {
  const n = Math.min(count, frameCount);
  return Array.from({ length: n }, (_, k) => Math.round((k * (frameCount - 1)) / Math.max(1, n - 1)));
}

export async function writeContactSheet(
  file: string,
  framesDir: string,
  frameName: (t: number) => string,
  frames: SheetFrame[],
  columns = 4,
  tile = 256,
): Promise<void> {
  const rows = Math.ceil(frames.length / columns);
  const sheet = new PNG({ width: columns * tile, height: rows * tile });
  sheet.data.fill(255);
  for (const [k, frame] of frames.entries()) {
    const image = PNG.sync.read(await readFile(path.join(framesDir, frameName(frame.index))));
    const [ox, oy] = [(k % columns) * tile, Math.floor(k / columns) * tile];
    const scale = image.width / tile;
    const put = (x: number, y: number, [r, g, b]: [number, number, number]) => {
      if (x < 0 || y < 0 || x >= tile || y >= tile) return;
      const o = ((oy + y) * sheet.width + ox + x) * 4;
      sheet.data[o] = r;
      sheet.data[o + 1] = g;
      sheet.data[o + 2] = b;
      sheet.data[o + 3] = 255;
    };
    // Box-filtered downscale of the frame into its tile.
    for (let y = 0; y < tile; y++)
      for (let x = 0; x < tile; x++) {
        const sum = [0, 0, 0];
        let n = 0;
        for (let sy = Math.floor(y * scale); sy < Math.min(image.height, Math.floor((y + 1) * scale)); sy++)
          for (let sx = Math.floor(x * scale); sx < Math.min(image.width, Math.floor((x + 1) * scale)); sx++) {
            const o = (sy * image.width + sx) * 4;
            for (let c = 0; c < 3; c++) sum[c] = (sum[c] as number) + (image.data[o + c] as number);
            n++;
          }
        put(x, y, sum.map((v) => Math.round(v / Math.max(1, n))) as [number, number, number]);
      }
    const colour = STATUS_COLOUR[frame.status];
    for (let i = 0; i < tile; i++)
      for (let b = 0; b < BORDER; b++) {
        put(i, b, colour);
        put(i, tile - 1 - b, colour);
        put(b, i, colour);
        put(tile - 1 - b, i, colour);
      }
    const points = frame.landmarks;
    if (!points) continue;
    for (let i = 0; i < points.length / 2; i++) {
      const [x, y] = [Math.floor((points[2 * i] as number) / scale), Math.floor((points[2 * i + 1] as number) / scale)];
      const dot: [number, number, number] = i < MESH_POINTS ? [0, 255, 0] : [0, 230, 255];
      put(x, y, dot);
      if (i >= MESH_POINTS)
        for (const [dx, dy] of [
          [1, 0],
          [-1, 0],
          [0, 1],
          [0, -1],
        ] as const)
          put(x + dx, y + dy, dot);
    }
  }
  await writeFile(file, PNG.sync.write(sheet));
}
