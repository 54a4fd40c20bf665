import { parseArgs } from 'node:util';
import { chooseDevice, type DeviceRequest } from '../device.js';
import { evaluateIdentity } from '../eval/evaluate.js';

const USAGE =
  'usage: splatcast eval --identity DIR --dataset DIR [--out DIR] [--device auto|cpu|cuda] [--size N] [--no-landmarks]\n' +
  '                      [--no-video]\n' +
  "Renders the dataset's held-out frames from their own audio, expression and pose and compares them with the real\n" +
  'frames; prints JSON: PSNR (image, face), SSIM (face), LMD (lip landmarks, pixels at the dataset size). With --out,\n' +
  'also writes eval.json, contact-sheet.png (real / rendered / difference) and side-by-side.mp4.';

export async function evalCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      identity: { type: 'string' },
      dataset: { type: 'string' },
      out: { type: 'string' },
      device: { type: 'string', default: 'auto' },
      size: { type: 'string' },
      'no-landmarks': { type: 'boolean' },
      'no-video': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || !values.identity || !values.dataset) {
    console.log(USAGE);
    if (!values.help) process.exitCode = 2;
    return;
  }
  const size = values.size === undefined ? undefined : Number(values.size);
  if (size !== undefined && !(Number.isInteger(size) && size >= 16))
    throw new Error(`--size must be an integer >= 16, got "${values.size}"`);
  const choice = chooseDevice(values.device as DeviceRequest);
  const { perFrame, ...summary } = await evaluateIdentity({
    identity: values.identity,
    dataset: values.dataset,
    device: choice.device,
    ...(size ? { size } : {}),
    ...(values.out ? { out: values.out } : {}),
    landmarks: !values['no-landmarks'],
    video: !values['no-video'],
  });
  console.log(JSON.stringify({ ...summary, perFrame }, null, 2));
}
