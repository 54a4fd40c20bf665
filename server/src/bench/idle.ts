// bench:idle — what a session costs the engine worker when nobody speaks, against when it speaks. Idle sessions
// replay their identity's pose/blink track, and idle frames are cached per (identity, track frame), so after one
// pass over the track an idle session should cost its encodes only; a speaking session renders every frame.
// For each session count, both modes run for --seconds after --warmup seconds (which must cover the identity's
// track once, so that the idle cache is full), and the engine worker's CPU time (user + system, from /proc) is
// read around the window. Cost = worker CPU in the window less an empty worker's, per session-second and per frame
// delivered (the figure that holds when speaking sessions saturate the worker and get fewer frames).
// Frames are VP8-encoded in the worker, as in service.
//   node dist/bench/idle.js [--sessions 1,2,4] [--seconds 10] [--warmup 6] [--size 256] [--device cpu]
//                           [--identity DIR] [--out results.json]
// Prints a table and writes JSON (to --out, or stdout with --json).
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { makeFixtureIdentity } from '@splatcast/engine';
import { EnginePool } from '../engine/engine-pool.js';
import type { EngineSession } from '../engine/engine-session.js';
import type { EngineWorker } from '../engine/engine-worker.js';
import { epochMs, type WorkerStats } from '../engine/protocol.js';
import { speechSignal } from './speech-signal.js';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '1,2,4' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '6' },
    size: { type: 'string', default: '256' },
    device: { type: 'string', default: 'cpu' },
    identity: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

const counts = values.sessions.split(',').map(Number);
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const size = Number(values.size);
const device = values.device as 'auto' | 'cpu' | 'cuda';
/** Linux reports process CPU time in clock ticks; USER_HZ is 100 on every mainstream architecture. */
const USER_HZ = 100;

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces, so split after its closing parenthesis): state is the
  // first, utime the 12th and stime the 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
}

type Mode = 'empty' | 'idle' | 'speaking';

interface Run {
  mode: Mode;
  sessions: number;
  workerCpuMsPerSecond: number;
  /** Above an empty worker's, per session: ms of CPU per second of session (10 = 1 % of a core). */
  perSessionCpuMsPerSecond: number;
  /**
   * Above an empty worker's, per frame delivered: the cost that stays true when the worker is saturated (then
   * sessions get fewer frames and the per-second figure only splits the CPU there is).
   */
  cpuMsPerFrame: number;
  framesPerSecondPerSession: number;
  renderedPerSecond: number;
  reusedPerSecond: number;
  droppedTickSlots: number;
}

/** Runs `sessions` sessions in `mode` through a warm-up, then measures the worker over the window. */
async function measure(
  pool: EnginePool,
  worker: EngineWorker,
  identityDir: string,
  mode: Mode,
  n: number,
  emptyCpuMsPerSecond: number,
): Promise<Run> {
  const sessions: EngineSession[] = [];
  for (let i = 0; i < n; i++) sessions.push(await pool.openSession({ identityId: 'bench', identityDir }));
  let frames = 0;
  for (const s of sessions) {
    await s.configureVideo('vp8', 1_000_000);
    s.on('encodedFrame', () => frames++);
  }
  const total = warmup + seconds;
  const audio = mode === 'speaking' ? sessions.map((_, i) => speechSignal(16000 * (total + 1), i)) : [];
  let window: { cpu: number; at: number; frames: number; stats: WorkerStats } | undefined;
  let result: { cpu: number; at: number; frames: number; stats: WorkerStats } | undefined;
  const started = performance.now();
  let chunk = 0;
  // Speech in real time, 20 ms per session every 20 ms on the wall clock; idle sessions get nothing.
  await new Promise<void>((resolve, reject) => {
    const tick = async () => {
      try {
        const elapsed = (performance.now() - started) / 1000;
        if (mode === 'speaking')
          for (const due = Math.floor(elapsed * 50); chunk <= due; chunk++) {
            const at = chunk * 320;
            const arrived = epochMs();
            sessions.forEach((s, i) => {
              const pcm = (audio[i] as Float32Array).subarray(at, at + 320);
              void s.pushAudio(pcm, 16000, arrived, true).catch(() => {});
            });
          }
        if (!window && elapsed >= warmup)
          window = { cpu: cpuSeconds(worker.pid), at: performance.now(), frames, stats: await worker.stats() };
        if (elapsed >= total) {
          result = { cpu: cpuSeconds(worker.pid), at: performance.now(), frames, stats: await worker.stats() };
          resolve();
        } else setTimeout(tick, 5);
      } catch (error) {
        reject(error);
      }
    };
    void tick();
  });
  for (const s of sessions) s.close();
  if (!window || !result) throw new Error('the measurement window never opened');
  const span = (result.at - window.at) / 1000;
  const workerCpuMsPerSecond = ((result.cpu - window.cpu) * 1000) / span;
  const framesPerSecond = (result.frames - window.frames) / span;
  return {
    mode,
    sessions: n,
    workerCpuMsPerSecond,
    perSessionCpuMsPerSecond: n > 0 ? (workerCpuMsPerSecond - emptyCpuMsPerSecond) / n : 0,
    cpuMsPerFrame: framesPerSecond > 0 ? (workerCpuMsPerSecond - emptyCpuMsPerSecond) / framesPerSecond : 0,
    framesPerSecondPerSession: n > 0 ? framesPerSecond / n : 0,
    renderedPerSecond: (result.stats.framesRendered - window.stats.framesRendered) / span,
    reusedPerSecond: (result.stats.framesReused - window.stats.framesReused) / span,
    droppedTickSlots: result.stats.skippedTicks - window.stats.skippedTicks,
  };
}

async function main(): Promise<void> {
  let identityDir = values.identity;
  let scratch: string | undefined;
  if (!identityDir) {
    scratch = await mkdtemp(path.join(tmpdir(), 'splatcast-bench-'));
    identityDir = path.join(scratch, 'fixture');
    // 125 track frames: a 5-s pose/blink track, which the default 6-s warm-up covers.
    await makeFixtureIdentity({ out: identityDir, seed: 1, faceGaussians: 20000, mouthGaussians: 4000, frames: 125 });
  }
  // No warm spare: its idle process would not change the worker's figures, but it would take CPU from them.
  const pool = await EnginePool.create({
    worker: { device, width: size, height: size, maxSessions: Math.max(32, ...counts) },
    spareWorker: false,
  });
  const worker = pool.workers[0] as EngineWorker;
  const runs: Run[] = [];
  try {
    const empty = await measure(pool, worker, identityDir, 'empty', 0, 0);
    runs.push(empty);
    console.error(JSON.stringify(empty));
    for (const n of counts)
      for (const mode of ['idle', 'speaking'] as const) {
        const run = await measure(pool, worker, identityDir, mode, n, empty.workerCpuMsPerSecond);
        runs.push(run);
        console.error(JSON.stringify(run));
      }
  } finally {
    pool.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
  const report = {
    bench: 'idle',
    date: new Date().toISOString(),
    device: worker.device,
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    loadAverage: loadavg(),
    size,
    seconds,
    warmup,
    identity: values.identity ?? 'generated fixture (20000 + 4000 Gaussians, 125 track frames)',
    runs,
  };
  const json = JSON.stringify(report, null, 2);
  if (values.out) await writeFile(values.out, `${json}\n`);
  if (values.json) console.log(json);
  const f = (x: number) => x.toFixed(1);
  console.error(
    `\nbench:idle on ${worker.device.device} at ${size}x${size}; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  console.error(
    'mode     | sessions | worker CPU ms/s | per session ms/s | CPU ms/frame | fps/session | rendered/s | reused/s | dropped',
  );
  for (const r of runs)
    console.error(
      `${r.mode.padEnd(8)} | ${String(r.sessions).padStart(8)} | ${f(r.workerCpuMsPerSecond).padStart(15)} | ${f(r.perSessionCpuMsPerSecond).padStart(16)} | ${r.cpuMsPerFrame.toFixed(2).padStart(12)} | ${f(r.framesPerSecondPerSession).padStart(11)} | ${f(r.renderedPerSecond).padStart(10)} | ${f(r.reusedPerSecond).padStart(8)} | ${r.droppedTickSlots}`,
    );
  for (const n of counts) {
    const idle = runs.find((r) => r.mode === 'idle' && r.sessions === n);
    const speaking = runs.find((r) => r.mode === 'speaking' && r.sessions === n);
    if (idle && speaking && speaking.cpuMsPerFrame > 0)
      console.error(
        `${n} session(s): an idle frame costs ${((100 * idle.cpuMsPerFrame) / speaking.cpuMsPerFrame).toFixed(1)} % of a speaking one`,
      );
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
