// contact-sheet.png: a grid of frames spread over the clip, read back from the written dataset, so a person can check
// it at a glance. Each tile shows the frame with its masks tinted (torso orange, hair and the rest of the head blue,
// face violet, inside of the mouth yellow; background untinted), the landmarks (face mesh green, irises cyan), the head
// pose as axes from the head-space origin (10 cm each: x red, y green, z blue) and a border coloured by tracking
// status (green tracked, amber interpolated, red dropped). PNG via pngjs: pure JS (no native build), widely used,
// and synchronous encode/decode of whole images, which is all this needs.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PNG } from 'pngjs';
import { FRAMES_DIR, frameFile, MASKS_DIR } from './dataset-manifest.js';
import type { FrameStatus } from './gaps.js';
import { MESH_POINTS } from './landmarks.js';

type Rgb = [number, number, number];

export interface SheetFrame {
  index: number;
  status: FrameStatus;
  /** Landmarks in pixels of the dataset frame, or null. */
  landmarks: number[] | null;
  /** Head-to-camera 4x4 row-major, or null. */
  pose: number[] | null;
}

export interface SheetCamera {
  fx: number;
  fy: number;
  cx: number;
  cy: number;
}

const STATUS_COLOUR: Record<FrameStatus, Rgb> = {
  tracked: [40, 200, 80],
  interpolated: [240, 170, 20],
  dropped: [220, 40, 40],
};
const BORDER = 4;
/** Tints, in drawing order: [mask, colour, opacity at full coverage]. "hair" is head minus face. */
const TINTS: [string, Rgb, number][] = [
  ['torso', [255, 140, 0], 0.45],
  ['hair', [40, 110, 255], 0.45],
  ['face', [170, 60, 255], 0.2],
  ['mouth', [255, 235, 0], 0.75],
];
const AXIS_LENGTH = 0.1;
const AXIS_COLOURS: Rgb[] = [
  [255, 40, 40],
  [40, 255, 40],
  [60, 120, 255],
];

/** Picks `count` frames spread evenly over the clip. */
export function sheetIndices(frameCount: number, count = 12): number[] {
  const n = Math.min(count, frameCount);
  return Array.from({ length: n }, (_, k) => Math.round((k * (frameCount - 1)) / Math.max(1, n - 1)));
}

/** Image position of a head-space point under `pose`, or null behind the camera. */
function project(pose: number[], camera: SheetCamera, p: Rgb): [number, number] | null {
  const row = (r: number) =>
    (pose[4 * r] as number) * p[0] +
    (pose[4 * r + 1] as number) * p[1] +
    (pose[4 * r + 2] as number) * p[2] +
    (pose[4 * r + 3] as number);
  const z = row(2);
  return z > 1e-6 ? [(camera.fx * row(0)) / z + camera.cx, (camera.fy * row(1)) / z + camera.cy] : null;
}

async function readGrey(file: string): Promise<Uint8Array> {
  const png = PNG.sync.read(await readFile(file));
  return Uint8Array.from({ length: png.width * png.height }, (_, i) => png.data[4 * i] as number);
}

/** Draws the contact sheet of the dataset in `dir` (frames and masks written) to `file`. */
export async function writeContactSheet(
  file: string,
  dir: string,
  frames: SheetFrame[],
  camera: SheetCamera,
  columns = 4,
  tile = 256,
): Promise<void> {
  const rows = Math.ceil(frames.length / columns);
  const sheet = new PNG({ width: columns * tile, height: rows * tile });
  sheet.data.fill(255);
  for (const [k, frame] of frames.entries()) {
    const name = frameFile(frame.index);
    const image = PNG.sync.read(await readFile(path.join(dir, FRAMES_DIR, name)));
    const [head, face, mouth, torso] = await Promise.all(
      ['head', 'face', 'mouth', 'torso'].map((kind) => readGrey(path.join(dir, MASKS_DIR, kind, name))),
    );
    const coverage: Record<string, (i: number) => number> = {
      torso: (i) => torso?.[i] as number,
      hair: (i) => (head?.[i] as number) - (face?.[i] as number),
      face: (i) => face?.[i] as number,
      mouth: (i) => mouth?.[i] as number,
    };
    const [ox, oy] = [(k % columns) * tile, Math.floor(k / columns) * tile];
    const scale = image.width / tile;
    const put = (x: number, y: number, [r, g, b]: Rgb) => {
      if (x < 0 || y < 0 || x >= tile || y >= tile) return;
      const o = ((oy + y) * sheet.width + ox + x) * 4;
      sheet.data[o] = r;
      sheet.data[o + 1] = g;
      sheet.data[o + 2] = b;
      sheet.data[o + 3] = 255;
    };
    // Box-filtered downscale of the frame and its masks into the tile, masks tinted over the frame.
    for (let y = 0; y < tile; y++)
      for (let x = 0; x < tile; x++) {
        const sum = [0, 0, 0];
        const cover = TINTS.map(() => 0);
        let n = 0;
        for (let sy = Math.floor(y * scale); sy < Math.min(image.height, Math.floor((y + 1) * scale)); sy++)
          for (let sx = Math.floor(x * scale); sx < Math.min(image.width, Math.floor((x + 1) * scale)); sx++) {
            const i = sy * image.width + sx;
            for (let c = 0; c < 3; c++) sum[c] = (sum[c] as number) + (image.data[4 * i + c] as number);
            TINTS.forEach(([mask], m) => {
              cover[m] = (cover[m] as number) + (coverage[mask]?.(i) as number);
            });
            n++;
          }
        const colour = sum.map((v) => v / Math.max(1, n));
        TINTS.forEach(([, tint, opacity], m) => {
          const a = (opacity * (cover[m] as number)) / (255 * Math.max(1, n));
          for (let c = 0; c < 3; c++) colour[c] = (1 - a) * (colour[c] as number) + a * (tint[c] as number);
        });
        put(x, y, colour.map(Math.round) as Rgb);
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
    if (points)
      for (let i = 0; i < points.length / 2; i++) {
        const [x, y] = [
          Math.floor((points[2 * i] as number) / scale),
          Math.floor((points[2 * i + 1] as number) / scale),
        ];
        const dot: Rgb = i < MESH_POINTS ? [0, 255, 0] : [0, 230, 255];
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
    const pose = frame.pose;
    const origin = pose && project(pose, camera, [0, 0, 0]);
    if (pose && origin)
      AXIS_COLOURS.forEach((axisColour, axis) => {
        const end = project(pose, camera, [0, 1, 2].map((c) => (c === axis ? AXIS_LENGTH : 0)) as Rgb);
        if (!end) return;
        const steps = Math.ceil(Math.hypot(end[0] - origin[0], end[1] - origin[1]) / scale) + 1;
        for (let s = 0; s <= steps; s++) {
          const [x, y] = [0, 1].map(
            (c) => ((origin[c] as number) + ((end[c] as number) - (origin[c] as number)) * (s / steps)) / scale,
          ) as [number, number];
          for (const [dx, dy] of [
            [0, 0],
            [1, 0],
            [0, 1],
            [1, 1],
          ] as const)
            put(Math.floor(x) + dx, Math.floor(y) + dy, axisColour);
        }
      });
  }
  await writeFile(file, PNG.sync.write(sheet));
}
