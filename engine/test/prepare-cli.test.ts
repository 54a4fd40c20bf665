// `splatcast prepare` end to end on a shared clip (the built CLI in dist/): every file of the dataset format, read
// back and checked, and the manifest validator's rejections.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PNG } from 'pngjs';
import t from 'tap';
import { readWav } from '../src/audio/wav.js';
import { decodeSafetensors } from '../src/identity/safetensors.js';
import { readDatasetManifest } from '../src/prepare/dataset-manifest.js';
import { DatasetReader } from '../src/prepare/dataset-reader.js';
import { MASK_KINDS, type MaskKind } from '../src/prepare/masks.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.resolve(here, '../dist/cli/main.js');
if (!existsSync(cli)) throw new Error(`${cli} is missing: run "npm run build" at the repository root first`);
const video = path.resolve(here, '../../../shared/media/video/may_5s.mp4');
const dir = await mkdtemp(path.join(tmpdir(), 'splatcast-prepare-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const out = path.join(dir, 'may');

t.test('usage and bad input', async (t) => {
  const usage = await run('node', [cli, 'prepare']).catch((e) => e);
  t.equal(usage.code, 2, 'no video: usage, exit 2');
  t.match(usage.stdout, /usage: splatcast prepare VIDEO --out DIR/);
  const garbage = path.join(dir, 'garbage.mov');
  await writeFile(garbage, 'not a video');
  const bad = await run('node', [cli, 'prepare', garbage, '--out', path.join(dir, 'x')]).catch((e) => e);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /splatcast: cannot read .*garbage\.mov: not a video ffmpeg can open/);
});

t.test('prepare may_5s (first 3.2 s)', { skip: existsSync(video) ? false : `${video} is absent` }, async (t) => {
  const { stdout } = await run('node', [cli, 'prepare', video, '--out', out, '--max-seconds', '3.2']);
  t.match(stdout, /wrote .*: 80 frames at 512² \(80 tracked, 0 interpolated, 0 dropped\)/);
  t.match(stdout, /time \d+\.\d s \(probe .*masks .*\)/, 'prints the time per stage');

  const m = await readDatasetManifest(out);
  t.same([m.fps, m.size, m.frameCount, m.frames.length], [25, 512, 80, 80]);
  t.equal(m.source.name, 'may_5s.mp4');
  t.match(m.source.sha256, /^[0-9a-f]{64}$/);
  t.same(m.crop, { x: 0, y: 0, size: 512 }, 'the source is already a 512² head-and-shoulders framing');
  t.same([m.camera.intrinsics.cx, m.camera.intrinsics.cy], [256, 256]);
  t.ok(m.camera.intrinsics.fx > 400 && m.camera.intrinsics.fx < 2000);
  // Bounds for this clip (measured: mean 4.4 px, max 5.7 px). The error is mostly the mean canonical face not
  // matching this person's face shape (it is the same in every frame), not tracking noise.
  t.ok(m.reprojection.meanPx < 6, `mean reprojection ${m.reprojection.meanPx} px < 6 px`);
  t.ok(m.reprojection.maxPx < 8, `max per-frame reprojection ${m.reprojection.maxPx} px < 8 px`);
  t.same(m.split, { train: [0, 72], test: [72, 80] });
  t.same(m.masks.kinds, ['head', 'face', 'mouth', 'torso', 'background']);
  t.same([m.plates.background, m.plates.torso], ['plates/background.png', 'plates/torso']);
  t.same(m.expression.signals, ['AU01', 'AU04', 'AU05', 'AU06', 'AU07', 'AU45']);
  for (const f of m.frames) {
    if (f.status !== 'tracked' || !f.landmarks || !f.pose) throw new Error('every frame should be tracked');
    if (f.landmarks.some((v) => v < 0 || v > 512)) throw new Error('landmarks outside the frame');
    if ((f.pose[11] as number) < 0.2 || (f.pose[11] as number) > 3) throw new Error(`head at ${f.pose[11]} m`);
  }
  t.pass('every frame tracked, landmarks inside the frame, head 0.2-3 m from the camera');

  const frames = (await readdir(path.join(out, 'frames'))).sort();
  t.equal(frames.length, 80);
  t.same([frames[0], frames[79]], ['000000.png', '000079.png']);
  const png = PNG.sync.read(await readFile(path.join(out, 'frames', '000040.png')));
  t.same([png.width, png.height], [512, 512]);

  const wav = readWav(await readFile(path.join(out, m.audio.wav)));
  t.same([wav.sampleRate, wav.channels, wav.samples.length], [16000, 1, 80 * 640]);
  t.equal(m.audio.samples, 80 * 640);
  const rms = Math.sqrt(wav.samples.reduce((s, v) => s + v * v, 0) / wav.samples.length);
  t.ok(rms > 0.01, `speech, not silence (rms ${rms.toFixed(3)})`);
  const { tensors } = decodeSafetensors(await readFile(path.join(out, m.audio.logMel.file)));
  const mel = tensors.get('log_mel');
  t.same(mel?.shape, [160, 80], 'ceil(51200 / 320) steps of 80 bands');
  t.same([m.audio.logMel.steps, m.audio.logMel.window, m.audio.logMel.windowAhead], [160, 16, 3]);

  const sheet = PNG.sync.read(await readFile(path.join(out, 'contact-sheet.png')));
  t.same([sheet.width, sheet.height], [1024, 768], 'a 4 x 3 grid of 256² tiles');
  t.same(
    (await readdir(dir)).filter((name) => name.startsWith('may.partial')),
    [],
    'no staging directory left behind',
  );

  const again = await run('node', [cli, 'prepare', video, '--out', out]).catch((e) => e);
  t.match(again.stderr, /exists and is not empty/, 'an existing dataset is not overwritten');
});

t.test(
  'masks, plates and expression signals of may_5s, read back with DatasetReader',
  { skip: existsSync(video) ? false : `${video} is absent` },
  async (t) => {
    const data = await DatasetReader.open(out);
    t.same(
      data.frames('train'),
      Array.from({ length: 72 }, (_, i) => i),
      'training frames: the first 72',
    );
    t.same(
      data.frames('test'),
      Array.from({ length: 8 }, (_, i) => 72 + i),
    );
    const pixels = 512 * 512;
    const plate = await data.background();
    t.equal(plate.length, 3 * pixels);
    for (const f of [0, 40, 79]) {
      const [rgb, masks, torsoPlate] = await Promise.all([data.frame(f), data.masks(f), data.torsoPlate(f)]);
      let [broken, plateDiff, plateSeen, torsoOff] = [0, 0, 0, 0];
      for (let i = 0; i < pixels; i++) {
        const [head, face, mouth, torso, background] = MASK_KINDS.map((k) => masks[k][i] as number) as number[];
        if ((head as number) + (torso as number) + (background as number) !== 255) broken++;
        if ((mouth as number) > (face as number) || (face as number) > (head as number)) broken++;
        for (let c = 0; c < 3; c++) {
          const [pixel, bg, tp] = [rgb[3 * i + c], plate[3 * i + c], torsoPlate[3 * i + c]] as number[];
          if (background === 255)
            [plateDiff, plateSeen] = [plateDiff + Math.abs((bg as number) - (pixel as number)), plateSeen + 1];
          // The torso plate: the frame where the torso is, the background plate elsewhere (head removed).
          const expected = ((torso as number) * (pixel as number) + (255 - (torso as number)) * (bg as number)) / 255;
          if (Math.abs((tp as number) - expected) > 1) torsoOff++;
        }
      }
      t.equal(broken, 0, `frame ${f}: head + torso + background = 255, mouth inside face inside head, at every pixel`);
      t.equal(torsoOff, 0, `frame ${f}: torso plate = torso over the background plate`);
      t.ok(
        plateDiff / plateSeen < 4,
        `frame ${f}: the plate matches the visible background (${(plateDiff / plateSeen).toFixed(2)} of 255)`,
      );
      const area = (kind: MaskKind) => masks[kind].reduce((a, v) => a + v, 0) / 255 / pixels;
      // may_5s is a head-and-shoulders framing: measured face 22-23 %, head 47-49 %, mouth 0.3-0.5 %.
      t.ok(
        area('face') > 0.12 && area('face') < 0.35,
        `frame ${f}: face ${(100 * area('face')).toFixed(1)} % of the frame`,
      );
      t.ok(
        area('head') > area('face') + 0.1 && area('head') < 0.7,
        `frame ${f}: head ${(100 * area('head')).toFixed(1)} %`,
      );
      t.ok(area('mouth') > 0 && area('mouth') < 0.02, `frame ${f}: mouth ${(100 * area('mouth')).toFixed(2)} %`);
      t.ok(area('torso') > 0.05 && area('background') > 0.1, `frame ${f}: torso and background present`);
      // The face mask sits on the landmarks: full at the nose tip, and the mouth mask around the inner lips.
      const lm = data.manifest.frames[f]?.landmarks as number[];
      const at = (k: number) => Math.floor(lm[2 * k + 1] as number) * 512 + Math.floor(lm[2 * k] as number);
      t.equal(masks.face[at(1)], 255, `frame ${f}: the nose tip is in the face mask`);
    }
    const m = data.manifest;
    const mouth = m.frames.map((f) => f.mouthOpen as number);
    t.ok(
      Math.max(...mouth) - Math.min(...mouth) > 1,
      `the mouth opens and closes while speaking (${Math.min(...mouth).toFixed(2)}..${Math.max(...mouth).toFixed(2)})`,
    );
    const blinks = m.frames.map((f) => (f.expression as number[])[5] as number);
    t.ok(blinks.filter((b) => b < 0.5).length > 0.6 * blinks.length, 'eyes open (blink below 0.5) in most frames');
    t.ok(m.audio.voice.speechFraction > 0.6, `speech found (${m.audio.voice.speechFraction})`);
    t.same(m.warnings, [], 'no warnings for a clean clip');
    t.ok(
      m.plates.backgroundSeen > 0.25 && m.plates.backgroundSeen < 0.7,
      `background seen: ${m.plates.backgroundSeen}`,
    );

    // Broken files are errors naming the file.
    const broken = path.join(dir, 'broken-files');
    await mkdir(path.join(broken, 'frames'), { recursive: true });
    await mkdir(path.join(broken, 'masks', 'face'), { recursive: true });
    await copyFile(path.join(out, 'dataset.json'), path.join(broken, 'dataset.json'));
    await writeFile(path.join(broken, 'frames', '000000.png'), 'not a png');
    const small = new PNG({ width: 8, height: 8 });
    await writeFile(path.join(broken, 'masks', 'face', '000000.png'), PNG.sync.write(small));
    const reader = await DatasetReader.open(broken);
    await t.rejects(reader.frame(0), /frames\/000000\.png is not a valid PNG/);
    await t.rejects(reader.mask(0, 'face'), /000000\.png is 8x8; the dataset's images are 512x512/);
    await t.rejects(reader.torsoPlate(1), /plates\/torso\/000001\.png is missing or unreadable/);
    await t.rejects(reader.frame(80), /frame 80 is outside the dataset's 0\.\.79/);
  },
);

t.test(
  'the manifest reader rejects broken datasets',
  { skip: existsSync(video) ? false : `${video} is absent` },
  async (t) => {
    const original = JSON.parse(await readFile(path.join(out, 'dataset.json'), 'utf8'));
    const broken = path.join(dir, 'broken');
    // biome-ignore lint/suspicious/noExplicitAny: edits reach into the parsed JSON freely
    const check = async (edit: (m: any) => void, pattern: RegExp) => {
      const m = structuredClone(original);
      edit(m);
      await rm(broken, { recursive: true, force: true });
      await run('mkdir', ['-p', broken]);
      await writeFile(path.join(broken, 'dataset.json'), JSON.stringify(m));
      await t.rejects(readDatasetManifest(broken), pattern);
    };
    await check((m) => {
      m.formatVersion = 2;
    }, /formatVersion 2, expected 1/);
    await check((m) => {
      m.frames[3].landmarks.pop();
    }, /frames\.3\.landmarks/);
    await check((m) => {
      m.frames[5].pose[0] = 2;
    }, /frames\[5\]\.pose is not a rigid transform/);
    await check((m) => {
      m.frames[7].status = 'dropped';
    }, /frames\[7\] is dropped but has a pose, landmarks or expression signals/);
    await check((m) => {
      m.frames.pop();
    }, /frames has 79 entries, frameCount is 80/);
    await check((m) => {
      m.extra = 1;
    }, /Unrecognized key/);
    await t.rejects(readDatasetManifest(path.join(dir, 'nowhere')), /dataset\.json is missing or unreadable/);
  },
);
