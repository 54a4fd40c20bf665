// The server's side of a load run, from its Prometheus /metrics (prom-client text format, parsed by
// parse-prometheus-text-format): CPU used by the server process and its workers, GPU utilisation and memory, open
// sessions. Scraped every few seconds; CPU is a rate between consecutive scrapes, in cores.
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

export interface MetricsSample {
  /** ms since the run started. */
  atMs: number;
  /** CPU cores in use by the server process and every process under it (engine and media workers). */
  cpuCores: number | undefined;
  /** The same for the main process alone (always exported). */
  mainProcessCpuCores: number | undefined;
  /** Mean GPU busy fraction over the server's GPUs (0..1); undefined when the server exports none. */
  gpuUtilization: number | undefined;
  gpuMemoryUsedBytes: number | undefined;
  sessions: number | undefined;
}

interface Scrape {
  at: number;
  values: Map<string, number[]>;
}

/** Flattens a parsed exposition into `name` → the values of its counter and gauge samples (histograms skipped). */
export function metricValues(text: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const family of parsePrometheusTextFormat(text)) {
    const values: number[] = [];
    for (const m of family.metrics) {
      const v = 'value' in m ? Number(m.value) : Number.NaN;
      if (Number.isFinite(v)) values.push(v);
    }
    if (values.length) out.set(family.name, values);
  }
  return out;
}

const sum = (xs: number[] | undefined) => (xs?.length ? xs.reduce((a, b) => a + b, 0) : undefined);
const mean = (xs: number[] | undefined) => (xs?.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);

/** CPU cores between two scrapes of a cumulative seconds counter. */
function rate(prev: Scrape, cur: Scrape, name: string): number | undefined {
  const a = sum(prev.values.get(name));
  const b = sum(cur.values.get(name));
  const dt = (cur.at - prev.at) / 1000;
  if (a === undefined || b === undefined || dt <= 0) return undefined;
  return Math.max(0, (b - a) / dt);
}

export function sampleBetween(prev: Scrape, cur: Scrape, startedAt: number): MetricsSample {
  return {
    atMs: cur.at - startedAt,
    cpuCores: rate(prev, cur, 'splatcast_process_tree_cpu_seconds'),
    mainProcessCpuCores: rate(prev, cur, 'splatcast_process_cpu_seconds_total'),
    gpuUtilization: mean(cur.values.get('splatcast_gpu_utilization_ratio')),
    gpuMemoryUsedBytes: sum(cur.values.get('splatcast_gpu_memory_used_bytes')),
    sessions: sum(cur.values.get('splatcast_sessions')),
  };
}

export class MetricsScraper {
  readonly samples: MetricsSample[] = [];
  readonly errors: string[] = [];
  private last: Scrape | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly url: string,
    private readonly startedAt: number,
    private readonly intervalMs = 2000,
  ) {}

  /** Scrapes once now (the baseline) and then every interval until stop(). */
  async start(): Promise<void> {
    await this.scrape();
    this.timer = setInterval(() => {
      this.inFlight = this.scrape();
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.inFlight;
    await this.scrape();
  }

  private async scrape(): Promise<void> {
    const at = performance.now();
    let text: string;
    try {
      const res = await fetch(this.url, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      text = await res.text();
    } catch (error) {
      // Kept and reported: a server too busy to answer its metrics is itself a finding.
      if (this.errors.length < 20) this.errors.push(`${this.url}: ${(error as Error).message}`);
      return;
    }
    let values: Map<string, number[]>;
    try {
      values = metricValues(text);
    } catch (error) {
      if (this.errors.length < 20) this.errors.push(`${this.url}: not Prometheus text: ${(error as Error).message}`);
      return;
    }
    const cur = { at, values };
    if (this.last) this.samples.push(sampleBetween(this.last, cur, this.startedAt));
    this.last = cur;
  }
}
