// Admin-path metrics in the shared registry: GPU utilisation and memory (nvidia-smi, read at scrape time and cached
// briefly), API requests and errors.
import { Counter, Gauge } from 'prom-client';
import { registry } from '../metrics/registry.js';
import { type GpuStatus, queryGpus } from './gpus.js';

let cached: { at: number; gpus: Promise<GpuStatus[]> } | undefined;
const gpus = () => {
  if (!cached || performance.now() - cached.at > 5000) cached = { at: performance.now(), gpus: queryGpus() };
  return cached.gpus;
};

new Gauge({
  name: 'splatcast_gpu_utilization_ratio',
  help: 'GPU busy fraction over the last sample period (nvidia-smi)',
  labelNames: ['gpu', 'name'] as const,
  registers: [registry],
  async collect() {
    this.reset();
    for (const g of await gpus()) this.set({ gpu: String(g.index), name: g.name }, g.utilization);
  },
});

new Gauge({
  name: 'splatcast_gpu_memory_used_bytes',
  help: 'GPU memory in use (nvidia-smi)',
  labelNames: ['gpu', 'name'] as const,
  registers: [registry],
  async collect() {
    this.reset();
    for (const g of await gpus()) this.set({ gpu: String(g.index), name: g.name }, g.memoryUsedBytes);
  },
});

new Gauge({
  name: 'splatcast_gpu_memory_total_bytes',
  help: 'GPU memory in all (nvidia-smi)',
  labelNames: ['gpu', 'name'] as const,
  registers: [registry],
  async collect() {
    this.reset();
    for (const g of await gpus()) this.set({ gpu: String(g.index), name: g.name }, g.memoryTotalBytes);
  },
});

export const adminRequests = new Counter({
  name: 'splatcast_admin_requests_total',
  help: 'Admin API requests by route and status class',
  labelNames: ['route', 'method', 'status'] as const,
  registers: [registry],
});

export const adminErrors = new Counter({
  name: 'splatcast_admin_errors_total',
  help: 'Admin API errors by code (internal = a bug, logged with its stack)',
  labelNames: ['code'] as const,
  registers: [registry],
});

export const uploadsRejected = new Counter({
  name: 'splatcast_uploads_rejected_total',
  help: 'Identity uploads refused, by reason',
  labelNames: ['reason'] as const,
  registers: [registry],
});
