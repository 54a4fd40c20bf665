// Probing and decoding uploads (ffmpeg): 25 fps from a 30-fps clip, rotation, audio, and every bad-input error.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { decodeAudio, decodeFrames } from '../src/prepare/decode.js';
import { prepareDataset } from '../src/prepare/prepare-dataset.js';
import { checkLimits, probeVideo } from '../src/prepare/probe.js';

const run = promisify(execFile);
const media = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/media/video');
const clip = (name: string) => path.join(media, name);
const missing = (name: string) => (existsSync(clip(name)) ? false : `${clip(name)} is absent (shared test media)`);
const dir = await mkdtemp(path.join(tmpdir(), 'splatcast-decode-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const ffmpeg = (...args: string[]) => run('ffmpeg', ['-v', 'error', '-y', ...args]);

t.test(
  'a 30-fps clip decodes to 25 fps with the right frame count',
  { skip: missing('vr_face1_6s.mp4') },
  async (t) => {
    const file = clip('vr_face1_6s.mp4');
    const info = await probeVideo(file);
    t.equal(info.width, 700);
    t.equal(info.height, 700);
    t.equal(info.rotation, 0);
    const { stdout } = await run('ffprobe', [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-count_packets',
      '-show_entries',
      'stream=nb_read_packets,r_frame_rate',
      '-of',
      'csv=p=0',
      file,
    ]);
    const [sourceRate, sourceFrames] = stdout.trim().split(',');
    t.equal(sourceRate, '30/1', 'the source is 30 fps');
    const seconds = checkLimits(file, info);
    let frames = 0;
    for await (const frame of decodeFrames(file, info, seconds)) {
      if (frames === 0) t.same([frame.width, frame.height, frame.rgb.length], [700, 700, 700 * 700 * 3]);
      frames++;
    }
    t.ok(Math.abs(frames - info.duration * 25) <= 1, `${frames} frames for ${info.duration} s at 25 fps`);
    t.not(frames, Number(sourceFrames), `not the source's ${sourceFrames} frames`);
    const small = [];
    for await (const frame of decodeFrames(file, info, 1, 350)) small.push(frame);
    t.same([small.length, small[0]?.width, small[0]?.height], [25, 350, 350], 'one second, downscaled for tracking');
  },
);

t.test('rotated phone video is decoded upright', { skip: missing('may_5s.mp4') }, async (t) => {
  // Store the pixels turned a quarter clockwise and tag the stream to be turned back for display.
  const coded = path.join(dir, 'coded.mp4');
  const rotated = path.join(dir, 'rotated.mp4');
  await ffmpeg(
    '-i',
    clip('may_5s.mp4'),
    '-t',
    '3.2',
    '-vf',
    'crop=512:400:0:60,transpose=1',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-c:a',
    'aac',
    coded,
  );
  await ffmpeg('-i', coded, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', rotated);
  const info = await probeVideo(rotated);
  t.equal(info.rotation, 270, 'the display matrix turns the picture a quarter counter-clockwise');
  t.same([info.width, info.height], [512, 400], 'displayed size, after rotation');
  for await (const frame of decodeFrames(rotated, info, 1)) {
    t.same([frame.width, frame.height], [512, 400]);
    // Upright: the bright face is in the middle rows, the dark jacket at the bottom (not on one side).
    const rowMean = (y: number) => frame.rgb.subarray(y * 512 * 3, (y + 1) * 512 * 3).reduce((a, b) => a + b, 0) / 1536;
    t.ok(rowMean(390) < rowMean(200), 'the bottom rows are darker than the face rows');
    break;
  }
});

t.test('audio is decoded to mono at the source rate', { skip: missing('may_5s.mp4') }, async (t) => {
  const info = await probeVideo(clip('may_5s.mp4'));
  t.same([info.audioSampleRate, info.audioChannels], [48000, 2]);
  const mono = await decodeAudio(clip('may_5s.mp4'), info, 2);
  t.ok(Math.abs(mono.length - 96000) < 2048, `${mono.length} samples for 2 s at 48 kHz`);
  t.ok(Math.max(...mono.map(Math.abs)) > 0.05, 'not silent');
});

t.test('bad input gives a clear error', async (t) => {
  const out = path.join(dir, 'out');
  const rejects = (file: string, pattern: RegExp, message: string, options = {}) =>
    t.rejects(prepareDataset(file, out, options), pattern, message);

  const garbage = path.join(dir, 'garbage.mp4');
  await writeFile(garbage, Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 7919) % 251)));
  await rejects(
    garbage,
    /cannot read .*garbage\.mp4: not a video ffmpeg can open, or it is corrupt or truncated/,
    'garbage',
  );
  await rejects(path.join(dir, 'nothing.mp4'), /does not exist/, 'missing file');
  t.notOk(existsSync(out), 'nothing is written for a rejected input');

  if (missing('may_5s.mp4')) return;
  const may = await readFile(clip('may_5s.mp4'));
  const truncated = path.join(dir, 'truncated.mp4');
  await writeFile(truncated, may.subarray(0, Math.floor(may.length * 0.6)));
  await rejects(truncated, /corrupt or truncated/, 'truncated (index at the end, now missing)');

  const short = path.join(dir, 'short.mp4');
  await ffmpeg('-i', clip('may_5s.mp4'), '-t', '2', '-c', 'copy', short);
  await rejects(short, /too short; at least 3 s/, 'under 3 s');
  await rejects(clip('may_5s.mp4'), /2\.00 s of video is too short/, '--max-seconds below 3 s', {
    limits: { maxSeconds: 2 },
  });

  const silent = path.join(dir, 'silent.mp4');
  await ffmpeg('-i', clip('may_5s.mp4'), '-t', '3.5', '-an', '-c', 'copy', silent);
  await rejects(silent, /has no audio track/, 'no audio track');

  await rejects(clip('may_5s.mp4'), /512x512 \(262144 pixels\); the limit is 100000 pixels/, 'too many pixels', {
    limits: { maxPixels: 100_000 },
  });
  await rejects(clip('may_5s.mp4'), /MiB; the limit is 0 MiB/, 'file too large', { limits: { maxFileBytes: 1000 } });
  await rejects(clip('may_5s.mp4'), /s long; the limit is 4 s \(use only its start with --max-seconds\)/, 'too long', {
    limits: { maxDuration: 4 },
  });
  await rejects(clip('may_5s.mp4'), /output size must be an integer in 64\.\.4096/, 'bad size', { size: 10 });
});

t.test('a file truncated after its index fails in decoding', { skip: missing('lp_d20_7s.mp4') }, async (t) => {
  // This clip has its index first, so ffprobe still reads the cut copy; decoding then ends early.
  const whole = await readFile(clip('lp_d20_7s.mp4'));
  const cut = path.join(dir, 'cut.mp4');
  await writeFile(cut, whole.subarray(0, Math.floor(whole.length * 0.55)));
  await t.rejects(
    prepareDataset(cut, path.join(dir, 'cut-out')),
    /decoding stopped after \d+ of about \d+ frames: the file is truncated or corrupt/,
  );
  t.notOk(existsSync(path.join(dir, 'cut-out')));
});
