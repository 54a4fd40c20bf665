import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { audioLatencyMs, audioLayoutForLookahead } from '../audio/feature-window.js';
import { chooseDevice, type DeviceRequest } from '../device.js';
import { defaultModelConfig } from '../model/config.js';
import { loadMotionPrior } from '../train/motion-prior.js';
import { ADAPT_SCHEDULE, DEFAULT_SCHEDULE } from '../train/stages.js';
import { type TrainProgress, trainIdentity } from '../train/trainer.js';
import { interruptible } from './interrupt.js';
import { progressLine } from './progress.js';

const COMMON =
  '                       [--face-iters N] [--static-iters N] [--mouth-iters 4000] [--fuse-iters 1000]\n' +
  '                       [--face-gaussians 4000] [--mouth-gaussians 1000] [--no-hook] [--lip-weight W] [--seed 1]\n' +
  '                       [--checkpoint-every 1000] [--no-resume] [--keep-checkpoints] [--name NAME] [--report FILE.json]\n' +
  '                       [--network-lr 5e-4]\n' +
  '  --lip-weight W     the photometric loss counts a box round the lips 1 + W times (speakers who open little)\n' +
  "  --network-lr LR    peak learning rate of the motion networks (the paper's 5e-4; 2.5e-3 fits short schedules)\n";
const USAGE = {
  train:
    'usage: splatcast train --dataset DIR --out IDENTITY [--device auto|cpu|cuda] [--size N] [--lookahead-ms 80]\n' +
    COMMON +
    'Trains an identity from a prepared dataset (splatcast prepare) without a motion prior: the face branch (a static\n' +
    'warm-up, then driven by audio and expression), the inside-mouth branch, then colour/opacity fusion. Checkpoints go\n' +
    'to IDENTITY.checkpoints; an interrupted run started again resumes from the newest one.\n' +
    '  --size N           training resolution (default: the dataset size); the identity renders at any size\n' +
    '  --lookahead-ms MS  audio the model may look ahead, which the server must wait for (default 80)\n' +
    '  --no-hook          the mouth does not see the face motion (ablation)',
  adapt:
    'usage: splatcast adapt --prior PRIOR --dataset DIR --out IDENTITY [--device auto|cpu|cuda] [--size N]\n' +
    '                       [--warmup-iters 3000] [--no-aligner] [--no-geometry]\n' +
    COMMON +
    'Motion-aligned adaptation: a new identity from a prepared dataset, its motion fields started from a pre-trained\n' +
    'motion prior (splatcast pretrain). After a static warm-up the fields fine-tune at a small learning rate for\n' +
    '--warmup-iters, then the motion aligners join; then the mouth (hooked to the face) and the fusion. The audio\n' +
    "layout (lookahead) is the prior's. The geometry regulariser compares the face's depth and normals with each\n" +
    "frame's tracked face mesh. --no-aligner, --no-hook and --no-geometry switch those parts off (ablations).",
};

export async function trainCommand(argv: string[], mode: 'train' | 'adapt' = 'train'): Promise<void> {
  const defaults = mode === 'adapt' ? ADAPT_SCHEDULE : DEFAULT_SCHEDULE;
  const { values } = parseArgs({
    args: argv,
    options: {
      dataset: { type: 'string' },
      out: { type: 'string' },
      prior: { type: 'string' },
      device: { type: 'string', default: 'auto' },
      size: { type: 'string' },
      'lookahead-ms': { type: 'string' },
      'face-iters': { type: 'string', default: String(defaults.faceIterations) },
      'static-iters': { type: 'string', default: String(defaults.staticIterations) },
      'warmup-iters': { type: 'string', default: String(defaults.warmupIterations) },
      'no-aligner': { type: 'boolean' },
      'no-geometry': { type: 'boolean' },
      'no-hook': { type: 'boolean' },
      'lip-weight': { type: 'string', default: String(defaults.lipWeight) },
      'network-lr': { type: 'string', default: String(defaults.networkLr) },
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
  if (values.help || !values.dataset || !values.out || (mode === 'adapt' && !values.prior)) {
    console.log(USAGE[mode]);
    if (!values.help) process.exitCode = 2;
    return;
  }
  const numberArg = (name: string, min: number, integer = true) => {
    const text = values[name as keyof typeof values] as string;
    const n = text.trim() === '' ? Number.NaN : Number(text);
    if (!(n >= min) || (integer && !Number.isInteger(n)))
      throw new Error(`--${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got "${text}"`);
    return n;
  };
  const int = (name: string, min: number) => numberArg(name, min);
  const learningRate = (name: string) => {
    const lr = numberArg(name, 0, false);
    if (!(lr > 0 && lr < 1))
      throw new Error(`--${name} must be in (0, 1), got "${values[name as keyof typeof values]}"`);
    return lr;
  };
  if (mode === 'train' && values.prior) throw new Error('--prior belongs to `splatcast adapt`');
  if (mode === 'adapt' && values['lookahead-ms'] !== undefined)
    throw new Error("--lookahead-ms: an adapted identity streams with its prior's audio layout");
  const prior = values.prior ? await loadMotionPrior(values.prior) : undefined;
  const model = structuredClone(prior?.model ?? defaultModelConfig());
  if (!prior) {
    const lookahead = Number(values['lookahead-ms'] ?? 80);
    if (!(lookahead >= 0))
      throw new Error(`--lookahead-ms must be a number of milliseconds, got "${values['lookahead-ms']}"`);
    model.audio = audioLayoutForLookahead(model.audio, lookahead);
  }
  if (values['no-hook']) model.mouth.hook = false;
  const choice = chooseDevice(values.device as DeviceRequest);
  console.error(`device: ${choice.device} (${choice.reason}); audio lookahead ${audioLatencyMs(model.audio)} ms`);
  const [dataset, out] = [values.dataset, values.out];
  const result = await interruptible((signal) =>
    trainIdentity({
      dataset,
      out,
      device: choice.device,
      ...(values.size ? { size: int('size', 16) } : {}),
      model,
      ...(prior ? { prior: { ...prior, model } } : {}),
      schedule: {
        faceIterations: int('face-iters', 2),
        staticIterations: int('static-iters', 1),
        warmupIterations: int('warmup-iters', 0),
        aligner: mode === 'adapt' && !values['no-aligner'],
        ...(mode === 'train' || values['no-geometry'] ? { geometry: null } : {}),
        mouthIterations: int('mouth-iters', 0),
        fuseIterations: int('fuse-iters', 0),
        lipWeight: numberArg('lip-weight', 0, false),
        networkLr: learningRate('network-lr'),
      },
      initialGaussians: { face: int('face-gaussians', 16), mouth: int('mouth-gaussians', 16) },
      seed: int('seed', 0),
      checkpointEvery: int('checkpoint-every', 1),
      resume: !values['no-resume'],
      keepCheckpoints: values['keep-checkpoints'] ?? false,
      ...(values.name ? { identity: { name: values.name } } : {}),
      signal,
      onProgress: (p: TrainProgress) => process.stderr.write(`\r${progressLine(p)}`),
      onLog: (line) => process.stderr.write(`\n${line}\n`),
    }),
  );
  process.stderr.write('\n');
  if (values.report) await writeFile(values.report, `${JSON.stringify(result, null, 2)}\n`);
  console.log(
    `wrote ${values.out}: ${result.gaussians.face} face + ${result.gaussians.mouth} mouth Gaussians, ${result.iterations} iterations in ${result.seconds.toFixed(1)} s` +
      (result.resumedAt > 0 ? ` (resumed after ${result.resumedAt})` : ''),
  );
}
