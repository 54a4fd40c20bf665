// RTP times of a session's frames. Frame k (the engine's tick index, which follows the monotonic clock) shows at
// video time base + 3600k (90 kHz) and its speech at base + 1920k and + 1920k + 960 (48 kHz, two 20 ms packets).
// Both are pure functions of k, so speech and video cannot drift apart, nor away from wall time, however long the
// session runs or however many tick slots an overloaded worker drops.
import { randomInt } from 'node:crypto';

export const VIDEO_TICKS_PER_FRAME = 3600;
export const AUDIO_TICKS_PER_FRAME = 1920;
export const AUDIO_TICKS_PER_PACKET = 960;

export class MediaClock {
  constructor(
    readonly videoBase = randomInt(0, 2 ** 32 - 1),
    readonly audioBase = randomInt(0, 2 ** 32 - 1),
  ) {}

  video(frameIndex: number): number {
    return (this.videoBase + ((frameIndex * VIDEO_TICKS_PER_FRAME) % 2 ** 32)) % 2 ** 32;
  }

  /** The RTP time of speech packet `packet` (0 or 1) of frame `frameIndex`. */
  audio(frameIndex: number, packet: 0 | 1): number {
    const ticks = (frameIndex * AUDIO_TICKS_PER_FRAME + packet * AUDIO_TICKS_PER_PACKET) % 2 ** 32;
    return (this.audioBase + ticks) % 2 ** 32;
  }
}
