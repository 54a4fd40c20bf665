import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { audioLatencyMs, audioLayoutForLookahead } from '../audio/feature-window.js';
import { chooseDevice, type DeviceRequest } from '../device.js';
import { defaultModelConfig } from '../model/config.js';
import { type TrainProgress, trainIdentity } from '../train/trainer.js';
import { progressLine } from './progress.js';

const USAGE =
  'usage: splatcast train --dataset DIR --out IDENTITY [--device auto|cpu|cuda] [--size N] [--lookahead-ms 80]\n' +
  '                       [--face-iters 10000] [--static-iters 1000] [--mouth-iters 4000] [--fuse-iters 1000]\n' +
  '                       [--face-gaussians 4000] [--mouth-gaussians 1000] [--seed 1] [--checkpoint-every 1000]\n' +
  '                       [--no-resume] [--keep-checkpoints] [--name NAME] [--report FILE.json]\n' +
  'Trains an identity from a prepared dataset (splatcast prepare) without a motion prior: the face branch (a static\n' +
  'warm-up, then driven by audio and expression), the inside-mouth branch, then colour/opacity fusion. Checkpoints go\n' +
  'to IDENTITY.checkpoints; an interrupted run started again resumes from the newest one.\n' +
  '  --size N           training resolution (default: the dataset size); the identity renders at any size\n' +
  '  --lookahead-ms MS  audio the model may look ahead, which the server must wait for (default 80)';

export async function trainCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      dataset: { type: 'string' },
      out: { type: 'string' },
      device: { type: 'string', default: 'auto' },
      size: { type: 'string' },
      'lookahead-ms': { type: 'string', default: '80' },
      'face-iters': { type: 'string', default: '10000' },
      'static-iters': { type: 'string', default: '1000' },
      'mouth-iters': { type: 'string', default: '4000' },
      'fuse-iters': { type: 'string', default: '1000' },
      'face-gaussians': { type: 'string', default: '4000' },
      'mouth-gaussians': { type: 'string', default: '1000' },
      seed: { type: 'string', default: '1' },
      'checkpoint-every': { type: 'string', default: '1000' },
      'no-resume': { type: 'boolean' },
      'keep-checkpoints': { type: 'boolean' },
      name: { type: 'string' },
      report: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || !values.dataset || !values.out) {
    console.log(USAGE);
    if (!values.help) process.exitCode = 2;
    return;
  }
  const int = (name: string, min: number) => {
    const text = values[name as keyof typeof values] as string;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got "${text}"`);
    return n;
  };
  const lookahead = Number(values['lookahead-ms']);
  if (!(lookahead >= 0))
    throw new Error(`--lookahead-ms must be a number of milliseconds, got "${values['lookahead-ms']}"`);
  const model = defaultModelConfig();
  model.audio = audioLayoutForLookahead(model.audio, lookahead);
  const choice = chooseDevice(values.device as DeviceRequest);
  console.error(`device: ${choice.device} (${choice.reason}); audio lookahead ${audioLatencyMs(model.audio)} ms`);
  const controller = new AbortController();
  const stop = () => {
    console.error('\nstopping: saving a checkpoint (run the same command again to resume)');
    controller.abort();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const result = await trainIdentity({
      dataset: values.dataset,
      out: values.out,
      device: choice.device,
      ...(values.size ? { size: int('size', 16) } : {}),
      model,
      schedule: {
        faceIterations: int('face-iters', 2),
        staticIterations: int('static-iters', 1),
        mouthIterations: int('mouth-iters', 0),
        fuseIterations: int('fuse-iters', 0),
      },
      initialGaussians: { face: int('face-gaussians', 16), mouth: int('mouth-gaussians', 16) },
      seed: int('seed', 0),
      checkpointEvery: int('checkpoint-every', 1),
      resume: !values['no-resume'],
      keepCheckpoints: values['keep-checkpoints'] ?? false,
      ...(values.name ? { identity: { name: values.name } } : {}),
      signal: controller.signal,
      onProgress: (p: TrainProgress) => process.stderr.write(`\r${progressLine(p)}`),
      onLog: (line) => process.stderr.write(`\n${line}\n`),
    });
    process.stderr.write('\n');
    if (values.report) await writeFile(values.report, `${JSON.stringify(result, null, 2)}\n`);
    console.log(
      `wrote ${values.out}: ${result.gaussians.face} face + ${result.gaussians.mouth} mouth Gaussians, ${result.iterations} iterations in ${result.seconds.toFixed(1)} s` +
        (result.resumedAt > 0 ? ` (resumed after ${result.resumedAt})` : ''),
    );
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
