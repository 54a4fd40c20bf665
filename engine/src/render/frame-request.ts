// What one frame of one session asks the renderer for.
import type { DeviceIdentity } from './device-identity.js';

export interface FrameRequest {
  identity: DeviceIdentity;
  /** Index into the identity's pose, expression and plate tracks (see trackFrameAt). */
  trackFrame: number;
  /**
   * Audio feature windows of video frames t - attentionBefore .. t + attentionAfter, oldest first:
   * [attentionFrames, window, featureDim] (see audio/feature-window.ts).
   */
  audioWindows: Float32Array;
  /** Replaces the track's upper-face expression for this frame ([expressionDim]). */
  expression?: Float32Array;
}

/**
 * Track frame for output frame t: the recorded clip plays forwards then backwards (ping-pong), so head pose and
 * torso never jump when it wraps (the official code loops, which jumps).
 */
export function trackFrameAt(t: number, frames: number): number {
  if (frames <= 1) return 0;
  const period = 2 * (frames - 1);
  const phase = t % period;
  return phase < frames ? phase : period - phase;
}
