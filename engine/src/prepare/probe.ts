// What an uploaded file is, from ffprobe, and whether it is within the limits: one video stream (any container and
// codec ffmpeg reads), an audio track, a size and duration that are neither absurd nor too short.
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { PrepareError } from './errors.js';

const run = promisify(execFile);

export interface VideoInfo {
  bytes: number;
  container: string;
  videoCodec: string;
  /** Displayed size (after rotation). */
  width: number;
  height: number;
  /** Clockwise rotation the player applies (0, 90, 180 or 270); ffmpeg applies it when decoding. */
  rotation: number;
  /** Average frame rate of the source. */
  fps: number;
  /** Seconds. */
  duration: number;
  /** Seconds by which the audio starts after the video (negative: before). */
  audioOffset: number;
  audioCodec: string;
  audioSampleRate: number;
  audioChannels: number;
}

export interface InputLimits {
  /** Largest accepted file (default 2 GiB). */
  maxFileBytes?: number;
  /** Longest accepted video, in seconds, after `maxSeconds` trimming (default 300). */
  maxDuration?: number;
  /** Largest accepted frame, width x height (default 3840 x 2160). */
  maxPixels?: number;
  /** Use only the first this many seconds. */
  maxSeconds?: number;
}

/** The shortest usable clip. */
export const MIN_SECONDS = 3;

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  duration?: string;
  start_time?: string;
  sample_rate?: string;
  channels?: number;
  tags?: { rotate?: string };
  side_data_list?: { rotation?: number }[];
}

const rate = (text: string | undefined): number => {
  const [num, den] = (text ?? '').split('/').map(Number);
  return num && den ? num / den : 0;
};

/** ffprobe output, or a PrepareError quoting ffprobe's complaint (not a media file, truncated, ...). */
async function ffprobe(file: string): Promise<{ streams?: ProbeStream[]; format?: Record<string, string> }> {
  try {
    const { stdout } = await run(
      'ffprobe',
      ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file],
      { maxBuffer: 16 << 20 },
    );
    return JSON.parse(stdout);
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new PrepareError('ffprobe is not installed (apt-get install ffmpeg)');
    const said = e.stderr?.trim().split('\n').slice(-3).join('; ') || e.message;
    throw new PrepareError(`cannot read ${file}: not a video ffmpeg can open, or it is corrupt or truncated (${said})`);
  }
}

export async function probeVideo(file: string): Promise<VideoInfo> {
  const bytes = (await stat(file).catch(() => null))?.size;
  if (bytes === undefined) throw new PrepareError(`${file} does not exist or cannot be read`);
  const { streams = [], format = {} } = await ffprobe(file);
  const video = streams.find((s) => s.codec_type === 'video' && s.width && s.height);
  if (!video) throw new PrepareError(`${file} has no video stream`);
  const audio = streams.find((s) => s.codec_type === 'audio');
  if (!audio) throw new PrepareError(`${file} has no audio track: training needs the person's speech`);
  const sideRotation = video.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation;
  // The display matrix gives counter-clockwise degrees, the older "rotate" tag clockwise ones.
  const clockwise = sideRotation !== undefined ? -sideRotation : Number(video.tags?.rotate ?? 0);
  const rotation = (((Math.round(clockwise / 90) * 90) % 360) + 360) % 360;
  const quarter = rotation === 90 || rotation === 270;
  const duration = Number(format.duration ?? video.duration ?? Number.NaN);
  if (!(duration > 0)) throw new PrepareError(`${file}: ffprobe reports no duration; the file is corrupt or truncated`);
  return {
    bytes,
    container: format.format_name ?? 'unknown',
    videoCodec: video.codec_name ?? 'unknown',
    width: (quarter ? video.height : video.width) as number,
    height: (quarter ? video.width : video.height) as number,
    rotation,
    fps: rate(video.avg_frame_rate) || rate(video.r_frame_rate),
    duration,
    audioOffset: Number(audio.start_time ?? 0) - Number(video.start_time ?? 0),
    audioCodec: audio.codec_name ?? 'unknown',
    audioSampleRate: Number(audio.sample_rate ?? 0),
    audioChannels: audio.channels ?? 0,
  };
}

/** Seconds of the video to use; throws a PrepareError for a file outside the limits. */
export function checkLimits(file: string, info: VideoInfo, limits: InputLimits = {}): number {
  const maxBytes = limits.maxFileBytes ?? 2 ** 31;
  const maxDuration = limits.maxDuration ?? 300;
  const maxPixels = limits.maxPixels ?? 3840 * 2160;
  if (info.bytes > maxBytes)
    throw new PrepareError(
      `${file} is ${(info.bytes / 2 ** 20).toFixed(0)} MiB; the limit is ${(maxBytes / 2 ** 20).toFixed(0)} MiB`,
    );
  if (info.width * info.height > maxPixels)
    throw new PrepareError(
      `${file} is ${info.width}x${info.height} (${info.width * info.height} pixels); the limit is ${maxPixels} pixels`,
    );
  if (!(info.audioSampleRate > 0 && info.audioChannels > 0))
    throw new PrepareError(`${file}: the audio track has no sample rate or channels`);
  const seconds = Math.min(info.duration, limits.maxSeconds ?? Infinity);
  if (seconds > maxDuration)
    throw new PrepareError(
      `${file} is ${info.duration.toFixed(1)} s long; the limit is ${maxDuration} s (use only its start with --max-seconds)`,
    );
  if (seconds < MIN_SECONDS)
    throw new PrepareError(
      `${file}: ${seconds.toFixed(2)} s of video is too short; at least ${MIN_SECONDS} s of the person speaking is needed`,
    );
  return seconds;
}
