// GPU tests fail loudly where no GPU is usable: `npm run test:gpu` is meant to run on a GPU machine.
import { addon } from '../../native/addon.js';

export function requireGpu(): void {
  const info = addon.cudaInfo();
  if (!info.available) throw new Error(`GPU tests need a usable CUDA GPU: ${info.reason}`);
}
