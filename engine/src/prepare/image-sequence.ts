// The dataset's per-frame PNG folders (%06d.png from 0), read and written as raw pixel streams through ffmpeg: its
// PNG codec runs in its own process, so encoding and decoding overlap with the work done here on the frames.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { VIDEO_FPS } from '../audio/feature-window.js';
import { ffmpeg, rawFrames } from './decode.js';

export type PixelFormat = 'rgb24' | 'gray';
const CHANNELS: Record<PixelFormat, number> = { rgb24: 3, gray: 1 };

/** Frames `first`.. of `dir` in order (`count` of them, or to the end), size x size raw bytes (3 or 1 per pixel). */
export async function* readImageSequence(
  dir: string,
  size: number,
  format: PixelFormat,
  first = 0,
  count?: number,
): AsyncGenerator<Uint8Array> {
  const { child, stdout, done } = ffmpeg(
    [
      ...['-f', 'image2', '-framerate', String(VIDEO_FPS), '-start_number', String(first)],
      ...['-i', path.join(dir, '%06d.png'), ...(count === undefined ? [] : ['-frames:v', String(count)])],
      ...['-f', 'rawvideo', '-pix_fmt', format, '-s', `${size}x${size}`, 'pipe:1'],
    ],
    `reading ${dir}`,
  );
  try {
    yield* rawFrames(stdout as AsyncIterable<Buffer>, size * size * CHANNELS[format]);
    await done;
  } finally {
    child.kill('SIGKILL');
  }
}

/** Writes raw frames to `dir/%06d.png`, numbered from `first`, through one ffmpeg process. */
export class ImageSequenceWriter {
  private readonly stdin: Writable;
  private readonly done: Promise<void>;
  private readonly stop: () => void;
  private readonly frameBytes: number;
  written = 0;

  private constructor(dir: string, size: number, format: PixelFormat, first: number) {
    this.frameBytes = size * size * CHANNELS[format];
    const started = ffmpeg(
      [
        ...['-f', 'rawvideo', '-pix_fmt', format, '-s', `${size}x${size}`, '-framerate', String(VIDEO_FPS)],
        ...['-i', 'pipe:0', '-pix_fmt', format, '-start_number', String(first), path.join(dir, '%06d.png')],
      ],
      `writing ${dir}`,
      true,
    );
    this.stdin = started.child.stdin as Writable;
    this.stop = () => started.child.kill('SIGKILL');
    // A failed ffmpeg surfaces through `done`; the pipe's own EPIPE would otherwise be an unhandled error.
    this.stdin.on('error', () => {});
    this.done = started.done;
  }

  static async open(dir: string, size: number, format: PixelFormat, first = 0): Promise<ImageSequenceWriter> {
    await mkdir(dir, { recursive: true });
    return new ImageSequenceWriter(dir, size, format, first);
  }

  /** Queues one frame; resolves once ffmpeg is ready for more (back-pressure). */
  async write(frame: Uint8Array): Promise<void> {
    if (frame.length !== this.frameBytes)
      throw new RangeError(`ImageSequenceWriter: a frame of ${frame.length} bytes, expected ${this.frameBytes}`);
    this.written++;
    if (!this.stdin.write(frame))
      await Promise.race([new Promise((resolve) => this.stdin.once('drain', resolve)), this.done]);
  }

  /** Ends the stream and waits for ffmpeg to finish writing. */
  async close(): Promise<void> {
    this.stdin.end();
    await this.done;
  }

  /** Stops ffmpeg at once (on an error elsewhere); what it wrote is left for the caller to remove. */
  abort(): void {
    this.stop();
  }
}
