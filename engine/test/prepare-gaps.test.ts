// Whole preparations of clips with gaps, built from may_5s with ffmpeg at test time (nothing generated is committed):
// the face hidden for a few frames and for a long while, and silent or non-speech audio. Made at 256² with a smaller
// segmentation input (masks are not what is tested here), to keep the test quick.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { DatasetReader } from '../src/prepare/dataset-reader.js';
import { prepareDataset } from '../src/prepare/prepare-dataset.js';

const run = promisify(execFile);
const may = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/media/video/may_5s.mp4');
const skip = existsSync(may) ? false : `${may} is absent (shared test media)`;
const dir = await mkdtemp(path.join(tmpdir(), 'splatcast-gaps-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const ffmpeg = (...args: string[]) => run('ffmpeg', ['-v', 'error', '-y', ...args]);
const prepare = async (file: string) => {
  const out = `${file}.dataset`;
  return { out, ...(await prepareDataset(file, out, { size: 256, masks: { segmentation: { inputSize: 128 } } })) };
};

t.test('the face lost: short gaps interpolated, long ones dropped and reported', { skip }, async (t) => {
  // Black frames hide the face at 30-32 (3 frames) and 60-74 (15 frames); the source is 25 fps, so frame n is n.
  const file = path.join(dir, 'lost.mp4');
  await ffmpeg(
    ...['-i', may, '-t', '4'],
    ...['-vf', "drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='between(n,30,32)+between(n,60,74)'"],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', file],
  );
  const { manifest: m, out } = await prepare(file);
  t.equal(m.frameCount, 100);
  t.same(
    m.frames.slice(29, 34).map((f) => f.status),
    ['tracked', 'interpolated', 'interpolated', 'interpolated', 'tracked'],
    'the 3-frame gap is interpolated',
  );
  t.same(m.tracking.droppedRanges, [[60, 75]], 'the 15-frame gap is dropped and reported');
  t.same([m.tracking.tracked, m.tracking.interpolated, m.tracking.dropped], [82, 3, 15]);
  const dropped = m.frames[65];
  t.same([dropped?.pose, dropped?.landmarks, dropped?.expression, dropped?.mouthOpen], [null, null, null, null]);
  t.ok(m.frames[31]?.pose && m.frames[31]?.expression, 'interpolated frames have a pose and expression signals');
  const data = await DatasetReader.open(out);
  t.notOk(
    data.frames('train').some((f) => f >= 60 && f < 75),
    'training skips the dropped frames',
  );
  t.equal(
    (await data.mask(65, 'face')).reduce((a, v) => a + v, 0),
    0,
    'a dropped frame has no face mask',
  );
});

t.test('silent or non-speech audio prepares with a voice-activity warning', { skip }, async (t) => {
  for (const [name, source] of [
    ['silent', 'anullsrc=r=48000:cl=stereo'],
    ['tone', 'sine=frequency=440:sample_rate=48000'],
  ] as const) {
    const file = path.join(dir, `${name}.mp4`);
    await ffmpeg(
      ...['-i', may, '-f', 'lavfi', '-i', source, '-t', '3.2', '-map', '0:v', '-map', '1:a'],
      ...['-c:v', 'copy', '-c:a', 'aac', file],
    );
    const { manifest: m } = await prepare(file);
    t.ok(m.audio.voice.speechFraction < 0.1, `${name}: speech fraction ${m.audio.voice.speechFraction}`);
    t.match(m.warnings.join('\n'), /of the audio is speech \(voice-activity check/, `${name}: warned`);
    t.equal(m.frameCount, m.tracking.tracked, `${name}: the dataset is still written, every frame tracked`);
  }
});
