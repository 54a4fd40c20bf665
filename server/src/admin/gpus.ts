// The GPUs of this machine, from nvidia-smi (NVML's command-line face; no native binding to build): which exist,
// for the job slots, and how busy they are, for the metrics. No nvidia-smi or no driver means no GPUs.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface GpuStatus {
  index: number;
  name: string;
  utilization: number;
  memoryUsedBytes: number;
  memoryTotalBytes: number;
}

export async function queryGpus(): Promise<GpuStatus[]> {
  try {
    const { stdout } = await run(
      'nvidia-smi',
      ['--query-gpu=index,name,utilization.gpu,memory.used,memory.total', '--format=csv,noheader,nounits'],
      { timeout: 5000 },
    );
    return stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [index, name, util, used, total] = line.split(',').map((s) => s.trim());
        return {
          index: Number(index),
          name: name ?? 'unknown',
          utilization: Number(util) / 100,
          memoryUsedBytes: Number(used) * 2 ** 20,
          memoryTotalBytes: Number(total) * 2 ** 20,
        };
      })
      .filter((g) => Number.isInteger(g.index));
  } catch {
    return [];
  }
}
