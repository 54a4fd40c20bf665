// Whole preparations of awkward frames, built from the shared clips with ffmpeg at test time (nothing generated is
// committed): a 30-fps 700² source, portrait / landscape / odd frame sizes, and a rotated phone video
// (prepare-gaps.test.ts: the face lost, silent audio). Datasets are made with a smaller segmentation input (and,
// where the output size does not matter, at 256²), to keep the test quick.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { DatasetReader } from '../src/prepare/dataset-reader.js';
import { type PrepareOptions, prepareDataset } from '../src/prepare/prepare-dataset.js';

const run = promisify(execFile);
const media = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/media/video');
const clip = (name: string) => path.join(media, name);
const missing = (name: string) => (existsSync(clip(name)) ? false : `${clip(name)} is absent (shared test media)`);
const dir = await mkdtemp(path.join(tmpdir(), 'splatcast-inputs-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const ffmpeg = (...args: string[]) => run('ffmpeg', ['-v', 'error', '-y', ...args]);
const QUICK: PrepareOptions = { size: 256, masks: { segmentation: { inputSize: 128 } } };
let outputs = 0;
async function prepare(file: string, options: PrepareOptions = QUICK) {
  const out = path.join(dir, `out-${outputs++}`);
  return { out, ...(await prepareDataset(file, out, options)) };
}

/** Eyes above the mouth, and every landmark inside the frame: the face is upright in the dataset. */
function upright(landmarks: number[], size: number): boolean {
  const y = (i: number) => landmarks[2 * i + 1] as number;
  return y(33) < y(13) && y(263) < y(13) && landmarks.every((v) => v >= 0 && v <= size);
}

t.test('a 30-fps, 700x700 clip comes out at 25 fps, 512x512', { skip: missing('vr_face1_6s.mp4') }, async (t) => {
  const { manifest: m } = await prepareDataset(clip('vr_face1_6s.mp4'), path.join(dir, 'vr1'), {
    ...QUICK,
    size: 512,
    limits: { maxSeconds: 3.2 },
  });
  t.same([m.source.width, m.source.height], [700, 700]);
  t.not(m.source.fps, 25, `the source is not 25 fps (${m.source.fps} on average)`);
  t.same([m.fps, m.size, m.frameCount], [25, 512, 80], '3.2 s at 25 fps, 512²');
  t.equal((await readdir(path.join(dir, 'vr1', 'frames'))).length, 80);
  t.equal(m.audio.samples, 80 * 640);
  t.ok(m.crop.x + m.crop.size <= 700 && m.crop.y + m.crop.size <= 700, 'the crop lies inside the source');
  t.equal(m.tracking.tracked, 80);
  // Measured 3.3 px mean / 4.6 px max (the mean canonical face against this face's own shape).
  t.ok(m.reprojection.meanPx < 6 && m.reprojection.maxPx < 8, `reprojection ${JSON.stringify(m.reprojection)}`);
  const data = await DatasetReader.open(path.join(dir, 'vr1'));
  t.equal((await data.frame(79)).length, 512 * 512 * 3);
  t.ok(upright(m.frames[40]?.landmarks as number[], 512));
});

t.test('portrait, landscape and odd frame sizes', { skip: missing('may_5s.mp4') }, async (t) => {
  const cases = [
    // A tall phone framing with odd sides (lossless FFV1 in Matroska: H.264 needs even sides).
    {
      name: 'portrait.mkv',
      vf: 'scale=321:321,format=yuv444p,pad=405:721:40:90:gray',
      codec: ['-c:v', 'ffv1'],
      size: [405, 721],
    },
    // A wide framing with the face off to one side.
    {
      name: 'landscape.mp4',
      vf: 'pad=1280:720:700:150:gray',
      codec: ['-c:v', 'libx264', '-preset', 'ultrafast'],
      size: [1280, 720],
    },
  ];
  for (const c of cases) {
    const file = path.join(dir, c.name);
    await ffmpeg('-i', clip('may_5s.mp4'), '-t', '3.2', '-vf', c.vf, ...c.codec, '-c:a', 'aac', file);
    const { manifest: m } = await prepare(file);
    t.same([m.source.width, m.source.height], c.size, `${c.name}: source size`);
    // 3.2 s; a container may round its duration up by a frame.
    t.ok(m.size === 256 && Math.abs(m.frameCount - 80) <= 1, `${c.name}: ${m.frameCount} frames at ${m.size}²`);
    t.equal(m.tracking.tracked, m.frameCount, `${c.name}: the face tracked in every frame`);
    const { x, y, size } = m.crop;
    t.ok(
      x >= 0 && y >= 0 && x + size <= c.size[0] && y + size <= c.size[1],
      `${c.name}: crop ${JSON.stringify(m.crop)} inside`,
    );
    t.ok(upright(m.frames[40]?.landmarks as number[], 256), `${c.name}: the face inside the dataset frame`);
  }
});

t.test('a rotated phone video prepares upright', { skip: missing('may_5s.mp4') }, async (t) => {
  // Pixels stored a quarter turn clockwise, tagged to be turned back for display (as phones write portrait video).
  const coded = path.join(dir, 'coded.mp4');
  const rotated = path.join(dir, 'rotated.mp4');
  await ffmpeg(
    ...['-i', clip('may_5s.mp4'), '-t', '3.2', '-vf', 'crop=512:400:0:60,transpose=1'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', coded],
  );
  await ffmpeg('-i', coded, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', rotated);
  const { manifest: m } = await prepare(rotated);
  t.equal(m.source.rotation, 270);
  t.same([m.source.width, m.source.height], [512, 400], 'the upright size');
  t.equal(m.tracking.tracked, 80, 'the face found in every frame (so it was upright)');
  t.ok(
    m.frames.every((f) => upright(f.landmarks as number[], 256)),
    'eyes above the mouth in every frame',
  );
});
