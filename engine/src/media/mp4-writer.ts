// Raw frames in, a playable mp4 out: ffmpeg (Debian package) reads the frames on stdin and muxes them with a speech
// file into H.264 + AAC. Used by `splatcast render` (I420 from the renderer) and `splatcast eval` (RGB side by sides).
import { spawn } from 'node:child_process';
import { VIDEO_FPS } from '../audio/feature-window.js';

export interface Mp4WriterOptions {
  out: string;
  /** A WAV to mux in; the video ends where the shorter of the two ends. Absent: a silent video. */
  audio?: string;
  /** Seconds into `audio` where the video's first frame is. */
  audioOffset?: number;
  width: number;
  height: number;
  /** What each written frame holds: I420 planes or packed RGB bytes. */
  pixels: 'yuv420p' | 'rgb24';
}

export interface Mp4Writer {
  write(frame: Uint8Array): Promise<void>;
  /** Ends the stream and waits for ffmpeg to finish the file. */
  close(): Promise<void>;
  abort(): void;
}

export function startMp4Writer(o: Mp4WriterOptions): Mp4Writer {
  const input = [
    '-f',
    'rawvideo',
    '-pix_fmt',
    o.pixels,
    '-s',
    `${o.width}x${o.height}`,
    '-r',
    String(VIDEO_FPS),
    '-i',
    'pipe:0',
  ];
  const audio = o.audio
    ? [
        ...(o.audioOffset ? ['-ss', String(o.audioOffset)] : []),
        '-i',
        o.audio,
        '-map',
        '0:v',
        '-map',
        '1:a',
        '-c:a',
        'aac',
        '-b:a',
        '128k',
        '-shortest',
      ]
    : [];
  const ffmpeg = spawn(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      ...input,
      ...audio,
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-crf',
      '18',
      '-pix_fmt',
      'yuv420p',
      '-movflags',
      '+faststart',
      o.out,
    ],
    { stdio: ['pipe', 'inherit', 'pipe'] },
  );
  let stderr = '';
  ffmpeg.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve, reject) => {
    ffmpeg.on('error', (e) => reject(new Error(`cannot run ffmpeg (apt-get install ffmpeg): ${e.message}`)));
    ffmpeg.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`ffmpeg failed (${code}): ${stderr.trim()}`)),
    );
  });
  exited.catch(() => {});
  return {
    write: (frame: Uint8Array) =>
      new Promise<void>((resolve, reject) => {
        ffmpeg.stdin.write(frame, (e) => (e ? exited.then(() => reject(e), reject) : resolve()));
      }),
    close: async () => {
      ffmpeg.stdin.end();
      await exited;
    },
    abort: () => ffmpeg.kill('SIGKILL'),
  };
}
