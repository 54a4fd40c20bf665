// A quick look for exactly one face before an upload is accepted: six frames spread over the clip's first 30 s,
// decoded small by ffmpeg, through the engine's face detector (BlazeFace on tfjs WASM, the one `prepare` tracks
// with). Adaptation tracks every frame later; this only spares the queue clips that cannot work.
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { FaceDetector } from '@splatcast/engine/dist/prepare/face-detector.js';
import { UploadRejected } from './upload-error.js';

const WIDTH = 320;
const SAMPLES = 6;

let detector: Promise<FaceDetector> | undefined;

/** The detector, loaded on first use (tfjs and the model stay out of a server that never screens). */
function faceDetector(): Promise<FaceDetector> {
  detector ??= (async () => {
    const { FaceDetector } = await import('@splatcast/engine/dist/prepare/face-detector.js');
    const { humanModelDir, loadModelFile } = await import('@splatcast/engine/dist/prepare/face-models.js');
    return new FaceDetector(await loadModelFile(path.join(humanModelDir(), 'blazeface.json'), 'face detector'), 0.6);
  })();
  detector.catch(() => {
    detector = undefined;
  });
  return detector;
}

/** Decodes `SAMPLES` frames (WIDTH wide, rgb24) evenly over the first `seconds`. */
async function sampleFrames(
  file: string,
  container: 'mp4' | 'matroska',
  seconds: number,
  width: number,
  height: number,
) {
  const h = 2 * Math.round((WIDTH * height) / width / 2);
  const span = Math.min(seconds, 30);
  const child = spawn(
    'ffmpeg',
    [
      ...['-hide_banner', '-nostdin', '-v', 'error', '-protocol_whitelist', 'file'],
      ...['-f', container === 'mp4' ? 'mov' : 'matroska', '-t', String(span), '-i', `file:${file}`],
      ...['-vf', `fps=${SAMPLES / span},scale=${WIDTH}:${h}`, '-frames:v', String(SAMPLES)],
      ...['-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const chunks: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  child.stderr.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-2000);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  const all = Buffer.concat(chunks);
  const size = WIDTH * h * 3;
  if (code !== 0 && all.length < size)
    throw new UploadRejected(
      'bad-media',
      `the video cannot be decoded: ${stderr.trim().split('\n').at(-1) ?? 'ffmpeg failed'}`,
    );
  const frames = [];
  for (let at = 0; at + size <= all.length; at += size)
    frames.push({ width: WIDTH, height: h, rgb: new Uint8Array(all.buffer, all.byteOffset + at, size) });
  return frames;
}

export interface FaceScreenReport {
  sampled: number;
  /** Faces found per sampled frame. */
  faces: number[];
}

export async function screenFaces(
  file: string,
  container: 'mp4' | 'matroska',
  info: { width: number; height: number; durationSeconds: number },
): Promise<FaceScreenReport> {
  const frames = await sampleFrames(file, container, info.durationSeconds, info.width, info.height);
  if (frames.length === 0) throw new UploadRejected('bad-media', 'no frame of the video could be decoded');
  const found = await faceDetector();
  const faces: number[] = [];
  for (const frame of frames) {
    const detections = await found.detect(frame);
    const largest = Math.max(0, ...detections.map((d) => Math.max(d.width, d.height)));
    // A face far behind the speaker (under a third of the speaker's size) does not count as a second person.
    faces.push(detections.filter((d) => Math.max(d.width, d.height) >= 0.35 * largest).length);
  }
  const none = faces.filter((n) => n === 0).length;
  const several = faces.filter((n) => n >= 2).length;
  if (none > frames.length / 2)
    throw new UploadRejected(
      'bad-content',
      `no face found in ${none} of ${frames.length} sampled frames: the video must show one person's face`,
    );
  if (several >= 2)
    throw new UploadRejected(
      'bad-content',
      `two or more faces in ${several} of ${frames.length} sampled frames: the video must show exactly one person`,
    );
  return { sampled: frames.length, faces };
}
