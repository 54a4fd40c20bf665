import { parseArgs } from 'node:util';
import { chooseDevice, type DeviceRequest } from '../device.js';

export async function statusCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { device: { type: 'string', default: 'auto' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    console.log('usage: splatcast status [--device auto|cpu|cuda]');
    return;
  }
  const choice = chooseDevice(values.device as DeviceRequest);
  console.log(
    JSON.stringify(
      { device: choice.device, reason: choice.reason, cudaCompiledIn: choice.cuda.compiledIn, cuda: choice.cuda },
      null,
      2,
    ),
  );
}
