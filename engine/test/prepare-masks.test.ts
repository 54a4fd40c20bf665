// Masks and plates on synthetic frames (exact answers known): the three-way split and nesting of the masks, the
// head/torso cut (ears in, shoulders out), long hair below the cut by colour (and its fallback when hair and clothes
// share a colour), the background plate's median and hole filling, the torso plate, the morphology filters, and
// the segmentation model's graph rewrite (same mattes).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { loadCanonicalFace } from '../src/prepare/canonical-face.js';
import { decodeFrames } from '../src/prepare/decode.js';
import type { RgbFrame } from '../src/prepare/image-warp.js';
import { LANDMARKS } from '../src/prepare/landmarks.js';
import { type FrameMasks, MASK_KINDS, MaskBuilder } from '../src/prepare/masks.js';
import { boxBlur, dilate, erode } from '../src/prepare/morphology.js';
import { backgroundSample, estimateBackground, torsoPlate } from '../src/prepare/plates.js';
import { probeVideo } from '../src/prepare/probe.js';
import { PersonSegmenter } from '../src/prepare/segmentation.js';

const SIZE = 512;
const face = await loadCanonicalFace();

/** A frontal face 0.8 m in front of a 1000-px camera, chin at 74 % of the frame's height (the crop's framing), as
 * landmarks in pixels (irises left at 0: unused here). */
function frontalLandmarks(): Float32Array {
  const points = new Float32Array(2 * LANDMARKS);
  for (let i = 0; i < 468; i++) {
    const [x, y, z] = [0, 1, 2].map((k) => face.vertices[3 * i + k] as number) as [number, number, number];
    points[2 * i] = (1000 * x) / (z + 0.8) + SIZE / 2;
    points[2 * i + 1] = (1000 * y) / (z + 0.8);
  }
  const shift = 0.74 * SIZE - (points[2 * 152 + 1] as number);
  for (let i = 0; i < 468; i++) points[2 * i + 1] = (points[2 * i + 1] as number) + shift;
  return points;
}
const landmarks = frontalLandmarks();
const lm = (i: number) => [landmarks[2 * i] as number, landmarks[2 * i + 1] as number] as [number, number];
const [faceLeft, faceRight, chin, forehead] = [lm(234)[0], lm(454)[0], lm(152)[1], lm(10)[1]];

type Rgb = [number, number, number];
const SKIN: Rgb = [225, 180, 150];
const HAIR: Rgb = [70, 45, 30];
const BLUE: Rgb = [40, 70, 200];
const GREEN: Rgb = [40, 170, 60];

/** A person in front of a green wall: hair round the face and hanging in two bands to the frame's bottom, a neck,
 * shoulders in `clothes`. Returns the frame, the person matte, and where the hair bands and shoulders are. */
function scene(clothes: Rgb) {
  const rgb = new Uint8Array(SIZE * SIZE * 3);
  const person = new Float32Array(SIZE * SIZE);
  const [width, height] = [faceRight - faceLeft, chin - forehead];
  const [cx, cy] = [(faceLeft + faceRight) / 2, (forehead + chin) / 2];
  // Hair round the head: from a quarter of the face height above the forehead point to below the jaw's ends.
  const [hx, hy, rx, ry] = [cx, forehead + 0.35 * height, 0.7 * width, 0.6 * height];
  const inBand = (x: number, y: number) =>
    y > cy && ((x > faceLeft - 45 && x < faceLeft - 10) || (x > faceRight + 10 && x < faceRight + 45));
  const inShoulders = (y: number) => y > chin + 50;
  const inNeck = (x: number, y: number) => y > cy && y <= chin + 50 && Math.abs(x - cx) < 0.3 * width;
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++) {
      const i = y * SIZE + x;
      const head = ((x - hx) / rx) ** 2 + ((y - hy) / ry) ** 2 < 1;
      let colour = GREEN;
      if (inShoulders(y) && x > 30 && x < SIZE - 30) colour = clothes;
      if (inNeck(x, y)) colour = SKIN;
      if (head) colour = HAIR;
      if (inBand(x, y)) colour = HAIR;
      rgb.set(colour, 3 * i);
      person[i] = colour === GREEN ? 0 : 1;
    }
  // Skin inside the face outline: drawn by the builder's own polygon would be circular, so use a lower ellipse.
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++)
      if (((x - cx) / (0.45 * width)) ** 2 + ((y - cy - 10) / (0.5 * height)) ** 2 < 1)
        rgb.set(SKIN, 3 * (y * SIZE + x));
  return { rgb, person, inBand, inShoulders, inNeck };
}

const share = (m: Uint8Array, where: (x: number, y: number) => boolean, test: (v: number) => boolean) => {
  let [hit, n] = [0, 0];
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++)
      if (where(x, y)) {
        n++;
        if (test(m[y * SIZE + x] as number)) hit++;
      }
  return hit / n;
};

function checkInvariants(t: Test, masks: FrameMasks, label: string) {
  let bad = 0;
  for (let i = 0; i < SIZE * SIZE; i++) {
    const [head, faceV, mouth, torso, background] = MASK_KINDS.map((k) => masks[k][i] as number) as number[];
    if ((head as number) + (torso as number) + (background as number) !== 255) bad++;
    if ((mouth as number) > (faceV as number) || (faceV as number) > (head as number)) bad++;
  }
  t.equal(bad, 0, `${label}: head + torso + background = 255 and mouth <= face <= head at every pixel`);
}

t.test('masks: the cut, ears and long hair', async (t) => {
  const { rgb, person, inBand, inShoulders, inNeck } = scene(BLUE);
  const masks = new MaskBuilder(SIZE).build(person, landmarks, rgb);
  checkInvariants(t, masks, 'hair and clothes of different colours');
  // The bands' inside (their edges are soft), from below the ear strips to the frame's bottom.
  const band = (x: number, y: number) => inBand(x - 4, y) && inBand(x + 4, y) && y > chin && y < SIZE - 4;
  const hairShare = share(masks.head, band, (v) => v >= 250);
  t.ok(hairShare > 0.97, `hair hanging below the jaw is head (${(100 * hairShare).toFixed(1)} % of the bands)`);
  const shoulders = (x: number, y: number) => inShoulders(y) && !inBand(x, y) && x > 40 && x < SIZE - 40;
  const torsoShare = share(
    masks.torso,
    (x, y) => shoulders(x, y) && !inNeck(x, y) && (x < faceLeft - 60 || x > faceRight + 60),
    (v) => v === 255,
  );
  t.ok(torsoShare > 0.99, `shoulders are torso (${(100 * torsoShare).toFixed(1)} %)`);
  const neck = share(
    masks.torso,
    (x, y) => inNeck(x, y) && y > chin + 15,
    (v) => v === 255,
  );
  t.ok(neck > 0.99, `the neck below the chin is torso (${(100 * neck).toFixed(1)} %)`);
  t.equal(
    share(
      masks.background,
      (x, y) => x < 20 && y < 20,
      (v) => v === 255,
    ),
    1,
    'the wall is background',
  );
  const mouthArea = masks.mouth.reduce((s, v) => s + v, 0) / 255;
  t.ok(mouthArea > 0 && mouthArea < 0.02 * SIZE * SIZE, `a small mouth region (${mouthArea.toFixed(0)} px)`);

  // Clothes the colour of the hair: no colour tells them apart, so the hanging hair stays with the torso (the cut).
  const same = scene(HAIR);
  const fallback = new MaskBuilder(SIZE).build(same.person, landmarks, same.rgb);
  checkInvariants(t, fallback, 'hair-coloured clothes');
  const width = faceRight - faceLeft;
  const y234 = lm(234)[1];
  const strip = (x: number, y: number) =>
    x > faceLeft - 0.2 * width + 3 &&
    x < faceLeft - 3 &&
    y > y234 + 0.03 * (chin - forehead) &&
    y < y234 + 0.12 * (chin - forehead);
  t.equal(
    share(
      fallback.head,
      (x, y) => strip(x, y) && (same.person[y * SIZE + x] as number) > 0,
      (v) => v === 255,
    ),
    1,
    'beside the jaw (ears, lobes) the person stays head without help from colour',
  );
  t.ok(
    share(
      fallback.head,
      (x, y) => shoulders(x, y),
      (v) => v === 0,
    ) > 0.99,
    'hair-coloured shoulders stay torso',
  );

  // A frame without a face: the whole person is torso, no face or mouth.
  const none = new MaskBuilder(SIZE).build(person, null, rgb);
  checkInvariants(t, none, 'no landmarks');
  t.equal(
    none.head.reduce((s, v) => s + v, 0),
    0,
    'no head without landmarks',
  );
});

t.test('background plate: median of the seen pixels, holes filled smoothly', async (t) => {
  const size = 64;
  const wall = (x: number, y: number): Rgb => [2 * x + 40, 3 * y + 20, 100];
  const samples = Array.from({ length: 9 }, (_, k) => {
    const rgb = new Uint8Array(size * size * 3);
    const background = new Uint8Array(size * size);
    const px = 12 + 3 * k; // a person moving right, always covering x 36..40 in the middle rows
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const i = y * size + x;
        const inPerson = y > 20 && Math.abs(x - px - 14) < 16;
        rgb.set(inPerson ? [250, 0, 250] : wall(x, y), 3 * i);
        background[i] = inPerson ? 0 : 255;
      }
    // One frame with a passer-by in a corner: the median ignores it.
    if (k === 4) for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) rgb.set([0, 0, 0], 3 * (y * size + x));
    return backgroundSample(rgb, background, size);
  });
  const plate = estimateBackground(samples, size);
  let [seenErr, holeErr] = [0, 0];
  let holes = 0;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      const seen = samples.some((s) => s.sure[i]);
      const diff = Math.max(...wall(x, y).map((v, c) => Math.abs((plate.rgb[3 * i + c] as number) - v)));
      if (seen) seenErr = Math.max(seenErr, diff);
      else {
        holes++;
        holeErr = Math.max(holeErr, diff);
      }
    }
  t.ok(holes > 0, `some pixels are never seen (${holes})`);
  t.equal(seenErr, 0, 'seen pixels: the median (the passer-by ignored)');
  t.ok(holeErr < 25, `never-seen pixels filled close to the smooth wall (max error ${holeErr} of 255)`);
  t.equal(plate.seenFraction, 1 - holes / (size * size));
  t.ok(plate.change < 1, `a still wall: background change ${plate.change.toFixed(2)} of 255`);
  // A panning camera: the wall slides 3 px a frame, so the frames disagree with their median plate.
  const panning = Array.from({ length: 9 }, (_, k) => {
    const rgb = new Uint8Array(size * size * 3);
    for (let i = 0; i < size * size; i++) rgb.set(wall(((i % size) + 3 * k) % size, Math.floor(i / size)), 3 * i);
    return backgroundSample(rgb, new Uint8Array(size * size).fill(255), size);
  });
  const moved = estimateBackground(panning, size).change;
  t.ok(moved > 5, `a panning camera: background change ${moved.toFixed(1)} of 255 (warned above 5)`);

  const frame = Uint8Array.of(200, 100, 0, 10, 20, 30);
  t.same(
    Array.from(torsoPlate(frame, Uint8Array.of(255, 51), Uint8Array.of(0, 0, 0, 110, 120, 130))),
    [200, 100, 0, 90, 100, 110],
  );
});

t.test('morphology', async (t) => {
  const map = new Uint8Array(49);
  for (const i of [24, 25, 31, 32]) map[i] = 1; // a 2x2 block at (3..4, 3..4) of a 7x7 map
  const grown = dilate(map, 7, 1);
  t.equal(
    grown.reduce((s, v) => s + v, 0),
    16,
    'dilation by 1 makes the block 4x4',
  );
  t.same(Array.from(erode(grown, 7, 1)), Array.from(map), 'erosion undoes it');
  const full = new Uint8Array(49).fill(1);
  t.equal(
    erode(full, 7, 2).reduce((s, v) => s + v, 0),
    49,
    'outside the frame counts as set: a full map stays full',
  );
  const blur = boxBlur(map, 7, 1);
  t.ok(Math.abs((blur[24] as number) - 4 / 9) < 1e-6, 'box blur: the mean of the 3x3 window');
});

const may = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/media/video/may_5s.mp4');
t.test(
  'person segmentation: dilated convolutions fused, the same mattes',
  { skip: existsSync(may) ? false : `${may} is absent (shared test media)` },
  async (t) => {
    const info = await probeVideo(may);
    const frames: RgbFrame[] = [];
    for await (const frame of decodeFrames(may, info, 0.2)) frames.push(frame);
    const [fused, plain] = await Promise.all([
      PersonSegmenter.create(),
      PersonSegmenter.create({ fuseDilated: false }),
    ]);
    let [maxDiff, face, corner] = [0, 1, 0];
    for (const frame of frames) {
      const [a, b] = [await fused.segment(frame), await plain.segment(frame)];
      for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs((a[i] as number) - (b[i] as number)));
      face = Math.min(face, a[300 * 512 + 256] as number);
      corner = Math.max(corner, a[10 * 512 + 10] as number);
    }
    fused.dispose();
    plain.dispose();
    t.equal(frames.length, 5);
    t.same([fused.fusedConvolutions, plain.fusedConvolutions], [3, 0], "RVM's three dilated convolutions fused");
    t.ok(maxDiff < 1e-5, `fused and TensorFlow's lowering agree (max difference ${maxDiff})`);
    t.ok(
      face > 0.95 && corner < 0.05,
      `a person matte: ${face.toFixed(3)} on the face, ${corner.toFixed(3)} in the corner`,
    );
  },
);
