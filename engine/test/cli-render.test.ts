// `splatcast render` end to end: a fixture and a WAV in, a playable mp4 with audio out (uses the built CLI in dist/).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { makeFixtureIdentity } from '../src/identity/fixture.js';
import { defaultModelConfig } from '../src/model/config.js';

const run = promisify(execFile);
const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/cli/main.js');
if (!existsSync(cli)) throw new Error(`${cli} is missing: run "npm run build" at the repository root first`);

const dir = await mkdtemp(path.join(tmpdir(), 'splatcast-cli-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const model = defaultModelConfig();
for (const grid of [model.face.motionGrid, model.face.alignerGrid, model.mouth.motionGrid, model.mouth.alignerGrid])
  grid.log2Table = 10;
await makeFixtureIdentity({
  out: path.join(dir, 'id'),
  seed: 4,
  faceGaussians: 3000,
  mouthGaussians: 600,
  frames: 8,
  model,
});

/** 16-bit mono WAV of a 220 Hz tone. */
function toneWav(seconds: number, rate = 22050): Buffer {
  const n = Math.round(seconds * rate);
  const out = Buffer.alloc(44 + 2 * n);
  out.write('RIFF', 0);
  out.writeUInt32LE(36 + 2 * n, 4);
  out.write('WAVEfmt ', 8);
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20);
  out.writeUInt16LE(1, 22);
  out.writeUInt32LE(rate, 24);
  out.writeUInt32LE(rate * 2, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36);
  out.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; i++) out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / rate)), 44 + 2 * i);
  return out;
}

t.test('renders an mp4 with H.264 video and AAC audio', async (t) => {
  const wav = path.join(dir, 'tone.wav');
  await writeFile(wav, toneWav(1.2));
  const out = path.join(dir, 'out.mp4');
  await run('node', [
    cli,
    'render',
    '--identity',
    path.join(dir, 'id'),
    '--audio',
    wav,
    '--out',
    out,
    '--size',
    '64x64',
    '--device',
    'cpu',
  ]);
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-count_frames',
    '-show_entries',
    'stream=codec_name,width,height,nb_read_frames',
    '-of',
    'json',
    out,
  ]);
  const streams = JSON.parse(stdout).streams as { codec_name: string; width?: number; nb_read_frames?: string }[];
  const video = streams.find((s) => s.codec_name === 'h264');
  t.ok(video, 'has an H.264 stream');
  t.equal(video?.width, 64);
  t.equal(Number(video?.nb_read_frames), 30, '1.2 s at 25 fps');
  t.ok(
    streams.some((s) => s.codec_name === 'aac'),
    'has an AAC stream',
  );
  // A decoded frame is a picture, not black.
  const { stdout: raw } = await run(
    'ffmpeg',
    ['-v', 'error', '-i', out, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'],
    {
      encoding: 'buffer',
    },
  );
  const mean = raw.reduce((a, v) => a + v, 0) / raw.length;
  t.ok(mean > 20, `mean luma ${mean.toFixed(1)}`);
});

t.test('bad inputs exit non-zero with a clear message', async (t) => {
  const wav = path.join(dir, 'bad.wav');
  await writeFile(wav, Buffer.from('RIFF garbage'));
  const fails = (args: string[], message: RegExp) =>
    t.rejects(run('node', [cli, ...args]), { stderr: message, code: 1 } as object);
  await fails(
    ['render', '--identity', path.join(dir, 'missing'), '--audio', wav, '--out', path.join(dir, 'x.mp4')],
    /identity package: .*missing/,
  );
  await fails(
    ['render', '--identity', path.join(dir, 'id'), '--audio', wav, '--out', path.join(dir, 'x.mp4')],
    /bad\.wav/,
  );
  await fails(
    ['render', '--identity', path.join(dir, 'id'), '--audio', wav, '--out', path.join(dir, 'x.mp4'), '--size', 'big'],
    /--size must look like/,
  );
  await t.rejects(run('node', [cli, 'render']), { code: 2 } as object, 'missing options: usage and exit 2');
  await t.rejects(run('node', [cli, 'nonsense']), { code: 2 } as object);
});
