import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { MetricsScraper, metricValues, sampleBetween } from '../src/metrics-scraper.js';

const exposition = (cpu: number, tree: number, gpu?: number) => `# HELP splatcast_process_cpu_seconds_total cpu
# TYPE splatcast_process_cpu_seconds_total counter
splatcast_process_cpu_seconds_total ${cpu}
# HELP splatcast_process_tree_cpu_seconds tree
# TYPE splatcast_process_tree_cpu_seconds gauge
splatcast_process_tree_cpu_seconds ${tree}
# HELP splatcast_sessions sessions
# TYPE splatcast_sessions gauge
splatcast_sessions 4
${
  gpu === undefined
    ? ''
    : `# HELP splatcast_gpu_utilization_ratio gpu
# TYPE splatcast_gpu_utilization_ratio gauge
splatcast_gpu_utilization_ratio{gpu="0",name="H100"} ${gpu}
splatcast_gpu_utilization_ratio{gpu="1",name="H100"} ${gpu / 2}
`
}# HELP splatcast_frame_stage_milliseconds stages
# TYPE splatcast_frame_stage_milliseconds histogram
splatcast_frame_stage_milliseconds_bucket{le="10",stage="total"} 3
splatcast_frame_stage_milliseconds_bucket{le="+Inf",stage="total"} 5
splatcast_frame_stage_milliseconds_sum{stage="total"} 52
splatcast_frame_stage_milliseconds_count{stage="total"} 5
`;

t.test('CPU in cores between two scrapes, GPU as the mean over GPUs', async (t) => {
  const a = { at: 1000, values: metricValues(exposition(10, 20, 0.8)) };
  const b = { at: 3000, values: metricValues(exposition(11, 26, 0.8)) };
  t.notOk(a.values.has('splatcast_frame_stage_milliseconds'), 'histograms are not flattened into values');
  const s = sampleBetween(a, b, 0);
  t.equal(s.atMs, 3000);
  t.equal(s.mainProcessCpuCores, 0.5);
  t.equal(s.cpuCores, 3, '6 CPU seconds in 2 s: 3 cores');
  t.ok(Math.abs((s.gpuUtilization as number) - 0.6) < 1e-9);
  t.equal(s.sessions, 4);
  const noGpu = sampleBetween(a, { at: 3000, values: metricValues(exposition(11, 26)) }, 0);
  t.equal(noGpu.gpuUtilization, undefined, 'a server without GPUs reports none, not 0');
});

t.test('the scraper keeps errors (unreachable, not Prometheus) instead of inventing samples', async (t) => {
  let cpu = 1;
  let broken = false;
  const server = createServer((_req, res) => {
    if (broken) return void res.writeHead(500).end('no');
    cpu += 0.5;
    res.end(exposition(cpu, cpu * 2));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  const scraper = new MetricsScraper(url, performance.now(), 100);
  await scraper.start();
  await new Promise((resolve) => setTimeout(resolve, 350));
  broken = true;
  await scraper.stop();
  t.ok(scraper.samples.length >= 2, `${scraper.samples.length} samples`);
  t.ok(
    scraper.samples.every((s) => (s.cpuCores ?? 0) > 0),
    'rates from consecutive scrapes',
  );
  t.match(scraper.errors.at(-1), /HTTP 500/);
  const gone = new MetricsScraper('http://127.0.0.1:9/metrics', performance.now(), 100);
  await gone.start();
  await gone.stop();
  t.equal(gone.samples.length, 0);
  t.ok(gone.errors.length >= 1);
});
