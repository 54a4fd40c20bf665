#!/usr/bin/env node
// splatcast-loadtest: simulated users against a Splatcast server (docs/deploy.md, "Load testing").
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { findCapacity } from './capacity-search.js';
import { type LoadRunOptions, type LoadRunReport, runLoad } from './load-run.js';
import { plotCapacity, plotRun } from './plot.js';
import { formatCapacity, formatRun } from './report-table.js';
import { type DriveMode, MODE_SAMPLE_RATE } from './simulated-client.js';
import { loadSpeech } from './speech-timeline.js';
import { httpBase, type TokenSource } from './token-source.js';

const USAGE = `usage: splatcast-loadtest --url ws://HOST:PORT/v1/stream --audio speech.wav [options]

  --url URL              the server's signalling URL (ws:// or wss://)
  --audio FILE           WAV speech to send (any rate and channel count; resampled)
  --mode mic|push        mic: Opus over a WebRTC send track; push: PcmChunk over the signalling socket (default mic)
  --sessions N           concurrent sessions (default 4)
  --ramp R               sessions started per second (default 2)
  --duration S           seconds at full load, after the ramp (default 30)
  --identity ID          identity to open (default: the token's, or "fixture" for development tokens)
tokens (one of):
  --token JWT            one token for every session
  --dev-token            from the server's /dev/token (development mode only; the default when no other is given)
  --admin-url URL --admin-key KEY   minted per session by the admin API (POST /v1/tokens)
measurement:
  --utterance-ms MS      speech between pauses (default 1400); --gap-ms MS  pause (default 600)
  --max-latency-ms MS    an onset not heard back within this counts as missed (default 3000)
  --connect-timeout-ms MS (default 20000)     --metrics URL  (default: http(s)://HOST:PORT/metrics; "none": off)
output:
  --out DIR              report.json and plot PNGs here (default ./loadtest-results)
capacity search:
  --find-capacity        ramp session counts until p95 latency or FPS breaks a threshold; prints the knee
  --start N (default 1)  --max-sessions N (default 128)  --resolution N (default 1)
  --max-p95-latency-ms MS (default 200)   --min-fps F (default 24)
`;

class UsageError extends Error {
  override name = 'UsageError';
}

function number(values: Record<string, unknown>, name: string, fallback: number, integer = false): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const x = Number(raw);
  if (!Number.isFinite(x) || x <= 0 || (integer && !Number.isInteger(x)))
    throw new UsageError(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got "${raw}"`);
  return x;
}

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!values.url) throw new UsageError('--url is required');
  if (!values.audio) throw new UsageError('--audio is required (a WAV file of speech)');
  const mode = (values.mode ?? 'mic') as DriveMode;
  if (mode !== 'mic' && mode !== 'push') throw new UsageError(`--mode must be mic or push, got "${values.mode}"`);
  const base = httpBase(values.url);
  const given = [values.token !== undefined, values['dev-token'] === true, values['admin-url'] !== undefined];
  if (given.filter(Boolean).length > 1) throw new UsageError('give one of --token, --dev-token, --admin-url');
  let tokens: TokenSource;
  if (values.token !== undefined) tokens = { kind: 'fixed', token: values.token };
  else if (values['admin-url'] !== undefined) {
    if (!values['admin-key']) throw new UsageError('--admin-url needs --admin-key');
    if (!values.identity) throw new UsageError('--admin-url needs --identity (the identity to mint tokens for)');
    tokens = {
      kind: 'admin',
      adminUrl: values['admin-url'],
      apiKey: values['admin-key'],
      identityId: values.identity,
      ttlSeconds: 3600,
    };
  } else tokens = { kind: 'dev', httpUrl: base, identityId: values.identity ?? 'fixture' };
  const metricsUrl = values.metrics === 'none' ? undefined : (values.metrics ?? `${base}/metrics`);
  const out = path.resolve(values.out ?? 'loadtest-results');
  const speech = await loadSpeech(values.audio, MODE_SAMPLE_RATE[mode]);
  const base_: Omit<LoadRunOptions, 'sessions'> = {
    url: values.url,
    tokens,
    ...(values.identity ? { identityId: values.identity } : {}),
    rampPerSecond: number(values, 'ramp', 2),
    durationMs: number(values, 'duration', 30) * 1000,
    mode,
    speech,
    utteranceMs: number(values, 'utterance-ms', 1400),
    gapMs: number(values, 'gap-ms', 600),
    maxLatencyMs: number(values, 'max-latency-ms', 3000),
    connectTimeoutMs: number(values, 'connect-timeout-ms', 20_000),
    metricsUrl,
    bucketMs: 2000,
  };
  await mkdir(out, { recursive: true });
  const write = async (name: string, data: string | Buffer) => {
    await writeFile(path.join(out, name), data);
    console.error(`wrote ${path.join(out, name)}`);
  };
  const saveRun = async (report: LoadRunReport, stem: string) => {
    console.log(formatRun(report));
    await write(`${stem}.json`, `${JSON.stringify(report, null, 2)}\n`);
    await write(
      `${stem}.png`,
      await plotRun(report.timeline, `${report.sessions} sessions (${report.mode}) against ${values.url}`),
    );
  };

  if (!values['find-capacity']) {
    const report = await runLoad({ ...base_, sessions: number(values, 'sessions', 4, true) });
    await saveRun(report, 'report');
    return report.run.failed === 0 ? 0 : 1;
  }
  const thresholds = {
    maxP95LatencyMs: number(values, 'max-p95-latency-ms', 200),
    minFps: number(values, 'min-fps', 24),
  };
  const result = await findCapacity({
    start: number(values, 'start', 1, true),
    max: number(values, 'max-sessions', 128, true),
    resolution: number(values, 'resolution', 1, true),
    thresholds,
    measure: async (sessions) => {
      console.error(`capacity: ${sessions} sessions…`);
      const report = await runLoad({ ...base_, sessions });
      await saveRun(report, `capacity-${sessions}`);
      return {
        sessions,
        p95LatencyMs: report.run.latencyMs.p95,
        fpsP5: report.run.fps.p5,
        failedSessions: report.run.failed,
      };
    },
    onStep: (s) =>
      console.error(`capacity: ${s.sessions} sessions ${s.pass ? 'pass' : `fail (${s.reasons.join(', ')})`}`),
  });
  console.log(formatCapacity(result));
  await write('capacity.json', `${JSON.stringify({ thresholds, ...result }, null, 2)}\n`);
  await write('capacity.png', await plotCapacity(result.steps, thresholds, `capacity against ${values.url}`));
  return 0;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    options: {
      url: { type: 'string' },
      audio: { type: 'string' },
      mode: { type: 'string' },
      sessions: { type: 'string' },
      ramp: { type: 'string' },
      duration: { type: 'string' },
      identity: { type: 'string' },
      token: { type: 'string' },
      'dev-token': { type: 'boolean' },
      'admin-url': { type: 'string' },
      'admin-key': { type: 'string' },
      'utterance-ms': { type: 'string' },
      'gap-ms': { type: 'string' },
      'max-latency-ms': { type: 'string' },
      'connect-timeout-ms': { type: 'string' },
      metrics: { type: 'string' },
      out: { type: 'string' },
      'find-capacity': { type: 'boolean' },
      start: { type: 'string' },
      'max-sessions': { type: 'string' },
      resolution: { type: 'string' },
      'max-p95-latency-ms': { type: 'string' },
      'min-fps': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    // wrtc's native threads can keep the process alive (or crash it on teardown) after the last session closed.
    process.exit(code);
  },
  (error) => {
    const usage = error instanceof UsageError;
    console.error(`splatcast-loadtest: ${(error as Error).message}${usage ? `\n\n${USAGE}` : ''}`);
    process.exit(usage ? 2 : 1);
  },
);
