// The console view of a run: one line per session, then the run's distributions and the server's load.
import type { CapacityResult } from './capacity-search.js';
import type { LoadRunReport } from './load-run.js';
import type { MetricsSample } from './metrics-scraper.js';

const f = (x: number | undefined, digits = 1) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));
const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : `${(100 * x).toFixed(2)}%`);

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => c.padStart(widths[i] ?? 8)).join(' | ');
}

function serverLoad(samples: readonly MetricsSample[]): string {
  const mean = (k: keyof MetricsSample) => {
    const xs = samples.map((s) => s[k]).filter((x): x is number => typeof x === 'number');
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined;
  };
  const max = (k: keyof MetricsSample) => {
    const xs = samples.map((s) => s[k]).filter((x): x is number => typeof x === 'number');
    return xs.length ? Math.max(...xs) : undefined;
  };
  const gpu = mean('gpuUtilization');
  return [
    `server CPU: ${f(mean('cpuCores'), 2)} cores mean, ${f(max('cpuCores'), 2)} max (process tree)`,
    `main process ${f(mean('mainProcessCpuCores'), 2)} cores`,
    gpu === undefined
      ? 'GPU: not exported by this server'
      : `GPU: ${pct(gpu)} busy mean, ${pct(max('gpuUtilization'))} max`,
  ].join('; ');
}

export function formatRun(r: LoadRunReport): string {
  const widths = [4, 9, 9, 7, 7, 8, 8, 8, 7, 8, 8, 7];
  const lines = [
    `splatcast-loadtest: ${r.sessions} sessions (${r.mode}), ramp ${r.rampPerSecond}/s, ${r.durationMs / 1000} s at full load`,
    row(
      [
        '#',
        'connect',
        '1st frame',
        'fps',
        'jitter',
        'freezes',
        'lat p50',
        'lat p95',
        'samples',
        'loss',
        'kbps',
        'srv p95',
      ],
      widths,
    ),
  ];
  for (const s of r.perSession) {
    lines.push(
      row(
        [
          String(s.index),
          f(s.connectMs, 0),
          f(s.firstFrameMs, 0),
          f(s.frames.fps),
          f(s.frames.jitterMs),
          String(s.frames.freezes),
          f(s.latencyMs.p50, 0),
          f(s.latencyMs.p95, 0),
          String(s.latencyMs.count),
          pct(s.videoLoss),
          f(s.videoKbps, 0),
          f(s.serverLatencyP95Ms, 0),
        ],
        widths,
      ) + (s.error ? `  FAILED: ${s.error}` : ''),
    );
  }
  const u = r.run;
  lines.push(
    '',
    `sessions failed: ${u.failed}/${u.sessions}`,
    `connect ms p50/p95: ${f(u.connectMs.p50, 0)}/${f(u.connectMs.p95, 0)}; first frame ms p50/p95: ${f(u.firstFrameMs.p50, 0)}/${f(u.firstFrameMs.p95, 0)}`,
    `audio→avatar latency ms (client clock, ${u.latencyMs.count} onsets, ${u.onsetsMissed} missed): p50 ${f(u.latencyMs.p50, 0)}, p95 ${f(u.latencyMs.p95, 0)}, p99 ${f(u.latencyMs.p99, 0)}, max ${f(u.latencyMs.max, 0)}`,
    `server-side latency p95 (Stats, median over sessions): ${f(u.serverLatencyP95Ms.p50, 0)} ms`,
    `received fps per session: mean ${f(u.fps.mean)}, p5 ${f(u.fps.p5)}, min ${f(u.fps.min)}; frame-interval jitter p50 ${f(u.jitterMs.p50)} ms`,
    `freezes: ${u.freezes} (${f(u.frozenMs / 1000, 2)} s frozen in all); video loss p95 ${pct(u.videoLoss.p95)}; video kbps mean ${f(u.videoKbps.mean, 0)}`,
    serverLoad(r.server.samples),
  );
  if (r.server.errors.length) lines.push(`metrics errors: ${r.server.errors.slice(0, 3).join('; ')}`);
  return lines.join('\n');
}

export function formatCapacity(c: CapacityResult): string {
  const widths = [9, 9, 8, 7, 5];
  const lines = ['', 'capacity search:', row(['sessions', 'lat p95', 'fps p5', 'failed', 'pass'], widths)];
  for (const s of c.steps)
    lines.push(
      row(
        [String(s.sessions), f(s.p95LatencyMs, 0), f(s.fpsP5), String(s.failedSessions), s.pass ? 'yes' : 'no'],
        widths,
      ) + (s.reasons.length ? `  ${s.reasons.join(', ')}` : ''),
    );
  lines.push(
    c.knee === 0
      ? 'knee: none (the first step already broke a threshold)'
      : `knee: ${c.knee} sessions${c.limitedByMax ? ' (the search stopped at --max-sessions: capacity may be higher)' : ` (${c.firstFailure} failed)`}`,
  );
  return lines.join('\n');
}
