// Face tracking on the shared clips (one face in every frame, landmark stability), the one-person checks on made-up
// clips (no face, two faces), and gap filling.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { loadCanonicalFace } from '../src/prepare/canonical-face.js';
import { decodeFrames } from '../src/prepare/decode.js';
import { loadFaceModels } from '../src/prepare/face-models.js';
import { fillGaps } from '../src/prepare/gaps.js';
import { LANDMARKS, LEFT_EYE_CORNERS, LEFT_IRIS, RIGHT_EYE_CORNERS, RIGHT_IRIS } from '../src/prepare/landmarks.js';
import { prepareDataset } from '../src/prepare/prepare-dataset.js';
import { probeVideo } from '../src/prepare/probe.js';
import { FaceTracker, type FrameObservation } from '../src/prepare/tracker.js';

const run = promisify(execFile);
const media = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/media/video');
const clip = (name: string) => path.join(media, name);
const missing = (name: string) => (existsSync(clip(name)) ? false : `${clip(name)} is absent (shared test media)`);
const dir = await mkdtemp(path.join(tmpdir(), 'splatcast-tracking-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const models = await loadFaceModels();

async function track(file: string, seconds: number, detectEvery = 5): Promise<FrameObservation[]> {
  const tracker = new FaceTracker(models, { detectEvery });
  const out: FrameObservation[] = [];
  for await (const frame of decodeFrames(file, await probeVideo(file), seconds)) out.push(await tracker.track(frame));
  return out;
}

const at = (points: Float32Array, i: number): [number, number] => [
  points[2 * i] as number,
  points[2 * i + 1] as number,
];

t.test('may_5s: one face, tracked in every frame', { skip: missing('may_5s.mp4') }, async (t) => {
  const frames = await track(clip('may_5s.mp4'), 5, 1);
  t.equal(frames.length, 125);
  t.ok(
    frames.every((f) => f.faces === 1),
    'the detector (run on every frame here) sees exactly one face each time',
  );
  t.ok(
    frames.every((f) => f.landmarks && f.score > 0.9),
    'landmarks with a confident face score in every frame',
  );
  const first = frames[0]?.landmarks as Float32Array;
  t.equal(first.length, 2 * LANDMARKS, '478 points');
  // Layout sanity: the subject's right eye is on the image's left, each iris centre lies between its eye corners.
  t.ok(at(first, RIGHT_EYE_CORNERS[0])[0] < at(first, LEFT_EYE_CORNERS[0])[0], 'right eye on the image left');
  for (const [iris, corners] of [
    [RIGHT_IRIS, RIGHT_EYE_CORNERS],
    [LEFT_IRIS, LEFT_EYE_CORNERS],
  ] as const) {
    const xs = corners.map((c) => at(first, c)[0]).sort((a, b) => a - b) as [number, number];
    const x = at(first, iris[0])[0];
    t.ok(x > xs[0] && x < xs[1], `iris ${iris[0]} centre between its eye corners`);
  }
});

t.test(
  'landmark jitter on a static-head clip is below 0.6 px',
  { skip: missing('german_anchor_20s.mp4') },
  async (t) => {
    // A news anchor, head nearly still, 512² source (so pixels are output pixels): 4 s. Jitter = mean distance of
    // each rigid landmark coordinate from its centred 5-frame mean (real slow motion cancels, frame noise stays).
    // Measured 0.30 px here; the bound leaves room for other machines' float rounding and codec builds.
    const frames = await track(clip('german_anchor_20s.mp4'), 4);
    const points = frames.map((f) => f.landmarks as Float32Array);
    t.ok(points.every(Boolean), 'tracked throughout');
    const rigid = (await loadCanonicalFace()).rigid.map((r) => r.index);
    let [sum, n] = [0, 0];
    for (let f = 2; f + 2 < points.length; f++)
      for (const i of rigid)
        for (const axis of [0, 1]) {
          let mean = 0;
          for (let k = -2; k <= 2; k++) mean += (points[f + k] as Float32Array)[2 * i + axis] as number;
          sum += Math.abs(((points[f] as Float32Array)[2 * i + axis] as number) - mean / 5);
          n++;
        }
    const jitter = sum / n;
    t.ok(jitter < 0.6, `jitter ${jitter.toFixed(3)} px < 0.6 px`);
  },
);

t.test('a video with no face is rejected', async (t) => {
  const file = path.join(dir, 'no-face.mp4');
  await run('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=320x240:rate=25:duration=3.5',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=220:duration=3.5',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-c:a',
    'aac',
    '-shortest',
    file,
  ]);
  await t.rejects(prepareDataset(file, path.join(dir, 'no-face-out')), /no face found in any frame/);
});

t.test('a video with two people is rejected', { skip: missing('may_5s.mp4') }, async (t) => {
  const file = path.join(dir, 'two-faces.mp4');
  await run('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-t',
    '3.2',
    '-i',
    clip('may_5s.mp4'),
    '-filter_complex',
    '[0:v]split[a][b];[b]hflip[c];[a][c]hstack,scale=640:320',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-c:a',
    'aac',
    file,
  ]);
  await t.rejects(
    prepareDataset(file, path.join(dir, 'two-out')),
    /two or more faces in \d+ of the \d+ frames checked/,
  );
});

t.test('gaps: short ones interpolated, long ones and the ends dropped', async (t) => {
  const face = (x: number): FrameObservation => ({
    landmarks: new Float32Array(2 * LANDMARKS).fill(x),
    score: 1,
    faces: 1,
  });
  const none: FrameObservation = { landmarks: null, score: 0, faces: 0 };
  // frames: 0 none | 1-3 face | 4-5 none (short) | 6-9 face | 10-16 none (long) | 17-29 face
  const frames = [none, face(1), face(1), face(10), none, none, face(40), ...Array.from({ length: 3 }, () => face(40))];
  frames.push(...Array.from({ length: 7 }, () => none), ...Array.from({ length: 13 }, () => face(5)));
  const filled = fillGaps(frames);
  t.same(filled.droppedRanges, [
    [0, 1],
    [10, 17],
  ]);
  t.same(filled.status.slice(3, 7), ['tracked', 'interpolated', 'interpolated', 'tracked']);
  t.equal(filled.landmarks[4]?.[0], 20, 'linear between 10 and 40, a third of the way');
  t.equal(filled.landmarks[5]?.[7], 30);
  t.equal(filled.landmarks[12], null);
  t.throws(
    () => fillGaps([face(1), none, none, none]),
    /a face was found in only 1 of 4 frames \(25 %\): at least 50 % is needed/,
  );
  const crowded = Array.from({ length: 10 }, (_, i) => ({ ...face(1), faces: i < 3 ? 2 : 1 }));
  t.throws(() => fillGaps(crowded), /two or more faces in 3 of the 10 frames checked/);
  t.equal(fillGaps(crowded, { multipleFaces: 'largest' }).maxFaces, 2, 'reported, not rejected, when allowed');
});
