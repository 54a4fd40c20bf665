import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { audioLatencyMs, audioLayoutForLookahead } from '../audio/feature-window.js';
import { chooseDevice, type DeviceRequest } from '../device.js';
import { defaultModelConfig } from '../model/config.js';
import { DEFAULT_PRETRAIN_SCHEDULE, type PretrainProgress, pretrainMotionPrior } from '../train/pretrain.js';
import { interruptible } from './interrupt.js';
import { progressLine } from './progress.js';

const S = DEFAULT_PRETRAIN_SCHEDULE;
const USAGE =
  'usage: splatcast pretrain --datasets DIR [DIR ...] --out PRIOR.safetensors [--device auto|cpu|cuda] [--size N]\n' +
  `                          [--lookahead-ms 80] [--static-iters ${S.staticIterations}] [--face-iters ${S.faceIterations}]\n` +
  `                          [--mouth-iters ${S.mouthIterations}] [--contrast-weight 1] [--seed 1]\n` +
  '                          [--checkpoint-every 2000] [--no-resume] [--keep-checkpoints] [--report FILE.json]\n' +
  'Identity-free pre-training: a Universal Motion Field shared by the videos of several people (prepared datasets),\n' +
  'each video keeping its own head and personal motion, with the Negative Contrast Loss between personal motions.\n' +
  'Iteration counts are per video. Writes the motion prior that `splatcast adapt` starts from; an interrupted run\n' +
  'started again resumes from PRIOR.checkpoints.';

export async function pretrainCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      datasets: { type: 'string', multiple: true },
      out: { type: 'string' },
      device: { type: 'string', default: 'auto' },
      size: { type: 'string' },
      'lookahead-ms': { type: 'string', default: '80' },
      'static-iters': { type: 'string', default: String(S.staticIterations) },
      'face-iters': { type: 'string', default: String(S.faceIterations) },
      'mouth-iters': { type: 'string', default: String(S.mouthIterations) },
      'contrast-weight': { type: 'string', default: '1' },
      seed: { type: 'string', default: '1' },
      'checkpoint-every': { type: 'string', default: '2000' },
      'no-resume': { type: 'boolean' },
      'keep-checkpoints': { type: 'boolean' },
      report: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  // `--datasets a b c`: the values after the first arrive as positionals.
  const datasets = [...(values.datasets ?? []), ...positionals];
  if (values.help || datasets.length === 0 || !values.out) {
    console.log(USAGE);
    if (!values.help) process.exitCode = 2;
    return;
  }
  const number = (name: string, min: number, integer = true) => {
    const text = values[name as keyof typeof values] as string;
    const n = Number(text);
    if (!(integer ? Number.isInteger(n) : Number.isFinite(n)) || n < min)
      throw new Error(`--${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got "${text}"`);
    return n;
  };
  const model = defaultModelConfig();
  model.audio = audioLayoutForLookahead(model.audio, number('lookahead-ms', 0, false));
  const choice = chooseDevice(values.device as DeviceRequest);
  console.error(
    `device: ${choice.device} (${choice.reason}); ${datasets.length} videos; audio lookahead ${audioLatencyMs(model.audio)} ms`,
  );
  const out = values.out;
  const result = await interruptible((signal) =>
    pretrainMotionPrior({
      datasets,
      out,
      device: choice.device,
      ...(values.size ? { size: number('size', 16) } : {}),
      model,
      schedule: {
        staticIterations: number('static-iters', 1),
        faceIterations: number('face-iters', 1),
        mouthIterations: number('mouth-iters', 0),
      },
      contrastWeight: number('contrast-weight', 0, false),
      seed: number('seed', 0),
      checkpointEvery: number('checkpoint-every', 1),
      resume: !values['no-resume'],
      keepCheckpoints: values['keep-checkpoints'] ?? false,
      signal,
      onProgress: (p: PretrainProgress) =>
        process.stderr.write(
          `\r${progressLine({ ...p, detail: `video ${p.video} contrast ${p.contrast.toFixed(4)}${p.personal ? ` personal ${p.personal.ownRms.toFixed(3)}/${p.personal.sumRms.toFixed(3)}` : ''}` })}`,
        ),
      onLog: (line) => process.stderr.write(`\n${line}\n`),
    }),
  );
  process.stderr.write('\n');
  if (values.report) await writeFile(values.report, `${JSON.stringify(result, null, 2)}\n`);
  console.log(
    `wrote ${values.out}: motion prior from ${datasets.length} videos, ${result.iterations} iterations in ${result.seconds.toFixed(1)} s` +
      (result.resumedAt > 0 ? ` (resumed after ${result.resumedAt})` : ''),
  );
}
