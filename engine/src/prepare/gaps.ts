// Frames where tracking lost the face: short gaps between tracked frames are filled by linear interpolation of the
// landmarks (a blink of the detector, a hand passing); longer gaps, and gaps at the clip's start or end (nothing to
// interpolate towards), are dropped and reported. A clip where the face is missing from most frames, or where two
// faces are seen, is rejected.
import { PrepareError } from './errors.js';
import type { FrameObservation } from './tracker.js';

export type FrameStatus = 'tracked' | 'interpolated' | 'dropped';

export interface GapOptions {
  /** Longest gap (frames) that is interpolated. */
  maxInterpolatedGap?: number;
  /** Fewest tracked frames, as a fraction of the clip, for the clip to be usable. */
  minTrackedFraction?: number;
  /** 'error': reject a clip where two or more faces appear; 'largest': track the main face and only report them. */
  multipleFaces?: 'error' | 'largest';
  /** Fraction of the detector's frames that may show two faces before the clip counts as having two people. */
  maxMultiFaceFraction?: number;
}

export interface FilledTrack {
  status: FrameStatus[];
  /** Per frame: [478, 2] source pixels, null where dropped. */
  landmarks: (Float32Array | null)[];
  /** Per frame: the face mesh's presence score (0 where no face was found). */
  scores: number[];
  droppedRanges: [number, number][];
  maxFaces: number;
  multiFaceFrames: number;
}

/** Half-open [first, end) runs of consecutive frames where `missing(t)` holds. */
function runs(count: number, missing: (t: number) => boolean): [number, number][] {
  const out: [number, number][] = [];
  for (let t = 0; t < count; t++) {
    if (!missing(t)) continue;
    const first = t;
    while (t < count && missing(t)) t++;
    out.push([first, t]);
  }
  return out;
}

export function fillGaps(observations: FrameObservation[], options: GapOptions = {}): FilledTrack {
  const maxGap = options.maxInterpolatedGap ?? 5;
  const minTracked = options.minTrackedFraction ?? 0.5;
  const n = observations.length;
  const checked = observations.filter((o) => o.faces !== null);
  const multiFaceFrames = checked.filter((o) => (o.faces as number) >= 2).length;
  const maxFaces = Math.max(0, ...checked.map((o) => o.faces as number));
  if (
    (options.multipleFaces ?? 'error') === 'error' &&
    checked.length > 0 &&
    multiFaceFrames > (options.maxMultiFaceFraction ?? 0.1) * checked.length
  )
    throw new PrepareError(
      `two or more faces in ${multiFaceFrames} of the ${checked.length} frames checked: the video must show one person ` +
        '(--multiple-faces largest, or the option multipleFaces: "largest", tracks the largest face anyway)',
    );
  const tracked = observations.filter((o) => o.landmarks).length;
  if (tracked < minTracked * n)
    throw new PrepareError(
      tracked === 0
        ? 'no face found in any frame'
        : `a face was found in only ${tracked} of ${n} frames (${Math.round((100 * tracked) / n)} %): ` +
            `at least ${Math.round(100 * minTracked)} % is needed`,
    );

  const status: FrameStatus[] = observations.map((o) => (o.landmarks ? 'tracked' : 'dropped'));
  const landmarks = observations.map((o) => o.landmarks);
  for (const [first, end] of runs(n, (t) => !observations[t]?.landmarks)) {
    const before = landmarks[first - 1];
    const after = landmarks[end];
    if (!before || !after || end - first > maxGap) continue;
    for (let t = first; t < end; t++) {
      const a = (t - first + 1) / (end - first + 1);
      landmarks[t] = before.map((v, i) => v + a * ((after[i] as number) - v));
      status[t] = 'interpolated';
    }
  }
  return {
    status,
    landmarks,
    scores: observations.map((o) => o.score),
    droppedRanges: runs(n, (t) => status[t] === 'dropped'),
    maxFaces,
    multiFaceFrames,
  };
}
