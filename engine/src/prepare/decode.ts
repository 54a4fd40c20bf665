// Decoding with ffmpeg (child processes): constant 25 fps (the fps filter duplicates or drops frames by timestamp, so
// 30 fps and variable-frame-rate sources come out on the 25-fps grid), rotation applied (ffmpeg's autorotate),
// frames streamed one at a time as rgb24, and the audio as float samples.
import { spawn } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { VIDEO_FPS } from '../audio/feature-window.js';
import type { CropBox } from './crop.js';
import { PrepareError } from './errors.js';
import type { RgbFrame } from './image-warp.js';
import type { VideoInfo } from './probe.js';

/**
 * A started ffmpeg: its stdout (and stdin with `input`), and a promise that rejects with ffmpeg's own error text if
 * it fails.
 */
export function ffmpeg(args: string[], what: string, input = false) {
  const child = spawn('ffmpeg', ['-hide_banner', ...(input ? [] : ['-nostdin']), '-v', 'error', ...args], {
    stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(new PrepareError(e.code === 'ENOENT' ? 'ffmpeg is not installed (apt-get install ffmpeg)' : e.message)),
    );
    child.on('close', (code, signal) =>
      code === 0
        ? resolve()
        : reject(
            new PrepareError(
              `${what} failed (ffmpeg ${signal ?? `exit ${code}`}): the file is corrupt or truncated? ` +
                `${stderr.trim().split('\n').slice(-3).join('; ')}`,
            ),
          ),
    );
  });
  done.catch(() => {});
  return { child, stdout: child.stdout as Readable, done };
}

/** Frames of the source on the 25-fps grid that `seconds` of it gives (what the fps filter emits, +-1). */
export const expectedFrames = (seconds: number): number => Math.round(seconds * VIDEO_FPS);

/**
 * Streams the first `seconds` of the video as 25-fps rgb24 frames, downscaled (keeping the aspect ratio) so the
 * longer side is at most `maxSide`: tracking needs no more, and a 4K frame would cost 25 MB per frame. Only one
 * frame is held at a time (the pipe pauses while the caller works on it).
 */
export async function* decodeFrames(
  file: string,
  info: VideoInfo,
  seconds: number,
  maxSide = 1280,
): AsyncGenerator<RgbFrame> {
  const scale = Math.min(1, maxSide / Math.max(info.width, info.height));
  // Even sizes keep every pixel format happy; the caller maps back with the exact ratio width / info.width.
  const width = scale < 1 ? 2 * Math.round((info.width * scale) / 2) : info.width;
  const height = scale < 1 ? 2 * Math.round((info.height * scale) / 2) : info.height;
  const filters = [`fps=${VIDEO_FPS}`, ...(scale < 1 ? [`scale=${width}:${height}:flags=area`] : [])];
  const { child, stdout, done } = ffmpeg(
    [
      '-i',
      file,
      '-t',
      String(seconds),
      '-map',
      '0:v:0',
      '-vf',
      filters.join(','),
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      'pipe:1',
    ],
    `decoding ${file}`,
  );
  try {
    for await (const rgb of rawFrames(stdout, width * height * 3)) yield { width, height, rgb };
    await done;
  } finally {
    child.kill('SIGKILL');
  }
}

/** Cuts a raw video byte stream into frames of `frameBytes`, one new buffer each. */
export async function* rawFrames(stream: AsyncIterable<Buffer>, frameBytes: number): AsyncGenerator<Uint8Array> {
  let frame = new Uint8Array(frameBytes);
  let filled = 0;
  for await (const chunk of stream) {
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(frameBytes - filled, chunk.length - at);
      frame.set(chunk.subarray(at, at + take), filled);
      filled += take;
      at += take;
      if (filled === frameBytes) {
        yield frame;
        frame = new Uint8Array(frameBytes);
        filled = 0;
      }
    }
  }
}

/**
 * Writes the first `seconds` of the video as size x size PNG frames, `dir/000000.png` on, cut to `box` (source
 * pixels after rotation) and scaled with Lanczos. Returns how many frames were written.
 */
export async function writeCroppedFrames(
  file: string,
  seconds: number,
  box: CropBox,
  size: number,
  dir: string,
): Promise<number> {
  await mkdir(dir, { recursive: true });
  const filters = [
    `fps=${VIDEO_FPS}`,
    `crop=${box.size}:${box.size}:${box.x}:${box.y}`,
    `scale=${size}:${size}:flags=lanczos`,
  ];
  const { done } = ffmpeg(
    [
      '-i',
      file,
      '-t',
      String(seconds),
      '-map',
      '0:v:0',
      '-vf',
      filters.join(','),
      '-pix_fmt',
      'rgb24',
      '-start_number',
      '0',
      path.join(dir, '%06d.png'),
    ],
    `writing the frames of ${file}`,
  );
  await done;
  return (await readdir(dir)).filter((name) => /^\d{6}\.png$/.test(name)).length;
}

/** The audio track's first `seconds`, mixed down to mono float samples at its own rate. */
export async function decodeAudio(file: string, info: VideoInfo, seconds: number): Promise<Float32Array> {
  const { stdout, done } = ffmpeg(
    [
      '-i',
      file,
      '-t',
      String(seconds),
      '-map',
      '0:a:0',
      '-ac',
      String(info.audioChannels),
      '-ar',
      String(info.audioSampleRate),
      '-f',
      'f32le',
      '-acodec',
      'pcm_f32le',
      'pipe:1',
    ],
    `decoding the audio of ${file}`,
  );
  const chunks: Buffer[] = [];
  for await (const chunk of stdout as AsyncIterable<Buffer>) chunks.push(chunk);
  await done;
  const all = Buffer.concat(chunks);
  const channels = info.audioChannels;
  const frames = Math.floor(all.length / (4 * channels));
  const mono = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += all.readFloatLE(4 * (i * channels + c));
    mono[i] = sum / channels;
  }
  return mono;
}
