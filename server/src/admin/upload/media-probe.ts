// ffprobe, hardened for hostile files: the demuxer is forced to the one the bytes were sniffed as (no playlist or
// image2 pattern can be smuggled in), only the `file` protocol is allowed (no network, no concat, no subfile), the
// path is ours (never the client's name), output and run time are bounded. Then the limits: streams, codecs,
// duration, frame size.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Container } from './container.js';
import { UploadRejected } from './upload-error.js';

const run = promisify(execFile);

const VIDEO_CODECS = new Set(['h264', 'hevc', 'vp8', 'vp9', 'av1', 'mpeg4', 'prores', 'mjpeg']);
const AUDIO_CODECS = new Set([
  'aac',
  'opus',
  'vorbis',
  'mp3',
  'flac',
  'alac',
  'pcm_s16le',
  'pcm_s24le',
  'pcm_s32le',
  'pcm_f32le',
  'pcm_s16be',
]);

export interface MediaLimits {
  minSeconds: number;
  maxSeconds: number;
  maxPixels: number;
}

export interface MediaInfo {
  container: string;
  videoCodec: string;
  audioCodec: string;
  width: number;
  height: number;
  fps: number;
  durationSeconds: number;
}

interface Stream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  disposition?: { attached_pic?: number };
}

const rate = (text: string | undefined): number => {
  const [num, den] = (text ?? '').split('/').map(Number);
  return num && den ? num / den : 0;
};

export async function probeMedia(file: string, container: Container, limits: MediaLimits): Promise<MediaInfo> {
  let parsed: { streams?: Stream[]; format?: { format_name?: string; duration?: string } };
  try {
    const { stdout } = await run(
      'ffprobe',
      [
        ...['-v', 'error', '-protocol_whitelist', 'file', '-f', container === 'mp4' ? 'mov' : 'matroska'],
        ...['-print_format', 'json', '-show_format', '-show_streams', `file:${file}`],
      ],
      { maxBuffer: 4 << 20, timeout: 30_000, killSignal: 'SIGKILL' },
    );
    parsed = JSON.parse(stdout);
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string; killed?: boolean };
    if (e.code === 'ENOENT') throw new Error('ffprobe is not installed (scripts/setup-system.sh installs ffmpeg)');
    if (e.killed) throw new UploadRejected('bad-media', 'ffprobe took more than 30 s to read the file');
    const said = (e.stderr ?? '')
      .trim()
      .split('\n')
      .slice(-2)
      .join('; ')
      .replaceAll(file, '<upload>')
      .replace(/\[[^\]]* @ 0x[0-9a-f]+\] /g, '');
    throw new UploadRejected(
      'bad-media',
      `not a readable video: it is corrupt or truncated (ffprobe: ${said || e.message})`,
    );
  }
  const streams = parsed.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic && s.width && s.height);
  if (!video) throw new UploadRejected('bad-media', 'the file has no video stream');
  const audio = streams.find((s) => s.codec_type === 'audio');
  if (!audio) throw new UploadRejected('bad-media', 'the file has no audio track: adaptation learns from speech');
  if (!VIDEO_CODECS.has(video.codec_name ?? ''))
    throw new UploadRejected('bad-media', `video codec ${video.codec_name ?? 'unknown'} is not accepted`);
  if (!AUDIO_CODECS.has(audio.codec_name ?? ''))
    throw new UploadRejected('bad-media', `audio codec ${audio.codec_name ?? 'unknown'} is not accepted`);
  const width = video.width as number;
  const height = video.height as number;
  if (width * height > limits.maxPixels)
    throw new UploadRejected('bad-media', `${width}x${height} is larger than the limit of ${limits.maxPixels} pixels`);
  const duration = Number(parsed.format?.duration);
  if (!(duration > 0))
    throw new UploadRejected('bad-media', 'ffprobe finds no duration: the file is corrupt or truncated');
  if (duration > limits.maxSeconds)
    throw new UploadRejected(
      'bad-media',
      `the video is ${duration.toFixed(1)} s long; the limit is ${limits.maxSeconds} s (a 5-20 s clip is what adaptation needs)`,
    );
  if (duration < limits.minSeconds)
    throw new UploadRejected(
      'bad-media',
      `the video is ${duration.toFixed(2)} s long; at least ${limits.minSeconds} s of the person speaking is needed`,
    );
  return {
    container: parsed.format?.format_name ?? container,
    videoCodec: video.codec_name as string,
    audioCodec: audio.codec_name as string,
    width,
    height,
    fps: Math.round(rate(video.avg_frame_rate) * 1000) / 1000,
    durationSeconds: duration,
  };
}
