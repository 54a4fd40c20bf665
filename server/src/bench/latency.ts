// bench:latency — server-side latency from audio arrival to encoded frame, at 1, 8 and 32 concurrent sessions.
// Each session is fed speech in real time, 20 ms at a time (as a microphone or a streaming TTS would), through the
// engine workers (render + VP8 encode in the worker); a frame's latency is its encode end minus the arrival of the
// last audio sample it plays. It includes the identity's lookahead (reported), the wait for the next tick, feature
// extraction, rendering and encoding. Also measured: interrupt to the first idle frame, frames/s, dropped slots.
//   node dist/bench/latency.js [--sessions 1,8,32] [--seconds 10] [--size 512] [--device auto] [--identity DIR]
//                              [--workers-per-device 1] [--out results.json]
// Prints a table and writes JSON (to --out, or stdout with --json).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { makeFixtureIdentity } from '@splatcast/engine';
import { EnginePool } from '../engine/engine-pool.js';
import type { EngineSession } from '../engine/engine-session.js';
import { epochMs } from '../engine/protocol.js';
import { speechSignal } from './speech-signal.js';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '1,8,32' },
    seconds: { type: 'string', default: '10' },
    size: { type: 'string', default: '512' },
    device: { type: 'string', default: 'auto' },
    identity: { type: 'string' },
    'workers-per-device': { type: 'string', default: '1' },
    out: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

const counts = values.sessions.split(',').map(Number);
const seconds = Number(values.seconds);
const size = Number(values.size);
const device = values.device as 'auto' | 'cpu' | 'cuda';

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

interface Result {
  sessions: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  stagesMsP50: { wait: number; render: number; encode: number };
  interruptMs: { p50: number; p95: number };
  framesPerSecondPerSession: number;
  speechFrames: number;
  droppedTickSlots: number;
  underruns: number;
}

async function measure(pool: EnginePool, identityDir: string, n: number): Promise<Result> {
  const sessions: EngineSession[] = [];
  for (let i = 0; i < n; i++) sessions.push(await pool.openSession({ identityId: 'bench', identityDir }));
  const latencies: number[] = [];
  const waits: number[] = [];
  const renders: number[] = [];
  const encodes: number[] = [];
  const interrupts: number[] = [];
  let frames = 0;
  const interruptAt = new Map<EngineSession, number>();
  for (const s of sessions) {
    await s.configureVideo('vp8', 1_000_000);
    s.on('encodedFrame', (f) => {
      frames++;
      const t = f.timing;
      if (f.speaking && t.audioArrivalMs !== undefined && t.encodedMs !== undefined) {
        latencies.push(t.encodedMs - t.audioArrivalMs);
        waits.push(t.featuresMs - t.audioArrivalMs);
        renders.push(t.renderedMs - t.featuresMs);
        encodes.push(t.encodedMs - t.renderedMs);
      }
      const asked = interruptAt.get(s);
      if (asked !== undefined && !f.speaking && t.encodedMs !== undefined) {
        interrupts.push(t.encodedMs - asked);
        interruptAt.delete(s);
      }
    });
  }
  const before = await Promise.all(pool.workers.map((w) => w.stats()));
  // Real-time feed: 20 ms per session every 20 ms, on the wall clock (no drift from timer lateness).
  const audio = sessions.map((_, i) => speechSignal(16000 * (seconds + 1), i));
  const started = performance.now();
  let chunk = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.floor((performance.now() - started) / 20);
      for (; chunk <= due && chunk * 320 < 16000 * seconds; chunk++) {
        const at = chunk * 320;
        const arrived = epochMs();
        sessions.forEach((s, i) => {
          void s.pushAudio((audio[i] as Float32Array).subarray(at, at + 320), 16000, arrived, true).catch(() => {});
        });
      }
      if (chunk * 320 >= 16000 * seconds) resolve();
      else setTimeout(tick, 5);
    };
    tick();
  });
  const measuredSeconds = (performance.now() - started) / 1000;
  const fps = frames / n / measuredSeconds;
  // Interrupt each session while it speaks: request to the first idle frame encoded.
  // (An overloaded worker may answer late: a failed interrupt is simply not counted.)
  for (const s of sessions) {
    try {
      await s.pushAudio(speechSignal(16000 * 2, 9), 16000, epochMs());
      interruptAt.set(s, epochMs());
      await s.interrupt();
    } catch (error) {
      interruptAt.delete(s);
      console.error(`interrupt probe: ${(error as Error).message}`);
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const after = await Promise.all(pool.workers.map((w) => w.stats()));
  for (const s of sessions) s.close();
  const sum = (xs: { skippedTicks: number; underruns: number }[], k: 'skippedTicks' | 'underruns') =>
    xs.reduce((a, x) => a + x[k], 0);
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const l = sorted(latencies);
  const iv = sorted(interrupts);
  return {
    sessions: n,
    latencyMs: { p50: pct(l, 0.5), p95: pct(l, 0.95), p99: pct(l, 0.99), max: l.at(-1) ?? Number.NaN },
    stagesMsP50: {
      wait: pct(sorted(waits), 0.5),
      render: pct(sorted(renders), 0.5),
      encode: pct(sorted(encodes), 0.5),
    },
    interruptMs: { p50: pct(iv, 0.5), p95: pct(iv, 0.95) },
    framesPerSecondPerSession: fps,
    speechFrames: l.length,
    droppedTickSlots: sum(after, 'skippedTicks') - sum(before, 'skippedTicks'),
    underruns: sum(after, 'underruns') - sum(before, 'underruns'),
  };
}

async function main(): Promise<void> {
  let identityDir = values.identity;
  let scratch: string | undefined;
  if (!identityDir) {
    scratch = await mkdtemp(path.join(tmpdir(), 'splatcast-bench-'));
    identityDir = path.join(scratch, 'fixture');
    await makeFixtureIdentity({ out: identityDir, seed: 1, faceGaussians: 20000, mouthGaussians: 4000, frames: 125 });
  }
  const max = Math.max(...counts);
  const pool = await EnginePool.create({
    workersPerDevice: Number(values['workers-per-device']),
    worker: { device, width: size, height: size, maxSessions: Math.max(32, max) },
    spareWorker: false, // an idle spare would only take CPU from the workers measured
  });
  const worker = pool.workers[0];
  const lookaheadProbe = await pool.openSession({ identityId: 'bench', identityDir });
  const lookaheadMs = lookaheadProbe.lookaheadMs;
  lookaheadProbe.close();
  const results: Result[] = [];
  try {
    for (const n of counts) {
      const result = await measure(pool, identityDir, n);
      results.push(result);
      console.error(JSON.stringify(result));
    }
  } finally {
    pool.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
  const report = {
    bench: 'latency',
    date: new Date().toISOString(),
    device: worker?.device,
    size,
    seconds,
    identity: values.identity ?? 'generated fixture (20000 + 4000 Gaussians)',
    lookaheadMs,
    goalP95Ms: 120 + lookaheadMs,
    results,
  };
  const json = JSON.stringify(report, null, 2);
  if (values.out) await writeFile(values.out, `${json}\n`);
  if (values.json) console.log(json);
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
  console.error(
    `\nbench:latency on ${worker?.device.device} at ${size}x${size}, lookahead ${lookaheadMs} ms (goal p95 <= ${report.goalP95Ms} ms)`,
  );
  console.error(
    'sessions | p50 ms | p95 ms | p99 ms | wait/render/encode p50 ms | interrupt p50/p95 ms | fps/session | dropped slots',
  );
  for (const r of results)
    console.error(
      `${String(r.sessions).padStart(8)} | ${f(r.latencyMs.p50).padStart(6)} | ${f(r.latencyMs.p95).padStart(6)} | ${f(r.latencyMs.p99).padStart(6)} | ${`${f(r.stagesMsP50.wait)}/${f(r.stagesMsP50.render)}/${f(r.stagesMsP50.encode)}`.padStart(25)} | ${`${f(r.interruptMs.p50)}/${f(r.interruptMs.p95)}`.padStart(20)} | ${f(r.framesPerSecondPerSession).padStart(11)} | ${r.droppedTickSlots}`,
    );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
