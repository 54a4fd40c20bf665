// npm run bench:render — renderer throughput: per-stage times, single-stream FPS, batched frames/s for several
// session counts, and device memory per session. Prints a table, then the JSON (also written with --json FILE).
// Identities are generated fixtures (random Gaussians and networks at realistic sizes) over a real plate from
// ../shared/media when present.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chooseDevice, type DeviceRequest } from '../device.js';
import { makeFixtureIdentity } from '../identity/fixture.js';
import { addon } from '../native/addon.js';
import { DeviceIdentity } from '../render/device-identity.js';
import type { FrameRequest } from '../render/frame-request.js';
import { Renderer } from '../render/renderer.js';
import { median, randomAudioWindows } from './sampling.js';

const { values } = parseArgs({
  options: {
    device: { type: 'string', default: 'auto' },
    size: { type: 'string' },
    face: { type: 'string', default: '40000' },
    mouth: { type: 'string', default: '8000' },
    sessions: { type: 'string' },
    identities: { type: 'string', default: '4' },
    iterations: { type: 'string' },
    json: { type: 'string' },
  },
});

const choice = chooseDevice(values.device as DeviceRequest);
const gpu = choice.device === 'cuda';
const size = Number(values.size ?? (gpu ? 512 : 256));
const sessionCounts = (values.sessions ?? (gpu ? '1,8,32,64' : '1,2')).split(',').map(Number);
const iterations = Number(values.iterations ?? (gpu ? 50 : 5));
const identityCount = Number(values.identities);
const here = path.dirname(fileURLToPath(import.meta.url));
const mediaVideo = path.resolve(here, '../../../../shared/media/video/may_5s.mp4');

const tmp = await mkdtemp(path.join(os.tmpdir(), 'splatcast-bench-'));
const freeAtStart = gpu ? (addon.cudaInfo().freeBytes ?? 0) : 0;
const identities: DeviceIdentity[] = [];
try {
  for (let i = 0; i < identityCount; i++) {
    const fixture = await makeFixtureIdentity({
      out: path.join(tmp, `id${i}`),
      faceGaussians: Number(values.face),
      mouthGaussians: Number(values.mouth),
      frames: 50,
      seed: 100 + i,
      ...(existsSync(mediaVideo) ? { plateSource: mediaVideo } : {}),
    });
    identities.push(DeviceIdentity.upload(fixture, choice.device, { width: size, height: size }));
  }
  const first = identities[0] as DeviceIdentity;
  const requestsFor = (sessions: number, tick: number): FrameRequest[] =>
    Array.from({ length: sessions }, (_, s) => {
      const identity = identities[s % identities.length] as DeviceIdentity;
      return {
        identity,
        trackFrame: (tick + 7 * s) % identity.tracks.frames,
        audioWindows: randomAudioWindows(identity.model, tick * 131 + s),
      };
    });

  // Per-stage times from a profiling renderer (it synchronises after each stage, so its total is a bit slower).
  const profiler = new Renderer({ device: choice.device, width: size, height: size, profile: true });
  for (let i = 0; i < 3; i++) profiler.renderBatch(requestsFor(1, i));
  const stageRuns: Record<string, number[]> = {};
  for (let i = 0; i < Math.max(5, Math.min(iterations, 20)); i++) {
    const { stages = {} } = profiler.renderBatch(requestsFor(1, i));
    for (const [stage, ms] of Object.entries(stages)) {
      stageRuns[stage] = stageRuns[stage] ?? [];
      stageRuns[stage].push(ms);
    }
  }
  profiler.dispose();
  const stages = Object.fromEntries(Object.entries(stageRuns).map(([k, v]) => [k, round(median(v))]));

  const batched = [];
  for (const sessions of sessionCounts) {
    const renderer = new Renderer({ device: choice.device, width: size, height: size });
    for (let i = 0; i < 3; i++) renderer.renderBatch(requestsFor(sessions, i));
    const times: number[] = [];
    let intersections = 0;
    for (let i = 0; i < iterations; i++) {
      const requests = requestsFor(sessions, i);
      const start = performance.now();
      intersections = renderer.renderBatch(requests).intersections;
      times.push(performance.now() - start);
    }
    const ms = median(times);
    batched.push({
      sessions,
      msPerBatch: round(ms),
      framesPerSecond: round((sessions * 1000) / ms),
      intersectionsPerFrame: Math.round(intersections / sessions),
      workspaceMBPerSession: round(renderer.workspaceBytes / sessions / 2 ** 20),
    });
    renderer.dispose();
  }
  const identityMB = first.bytes / 2 ** 20;
  const result = {
    benchmark: 'render',
    date: new Date().toISOString(),
    device: choice.device,
    deviceName: gpu ? choice.cuda.name : `${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}`,
    resolution: `${size}x${size}`,
    gaussians: first.gaussians,
    identities: identities.length,
    iterations,
    stagesMs: stages,
    singleStreamFps: batched.find((b) => b.sessions === 1)?.framesPerSecond ?? null,
    batched,
    identityMB: round(identityMB),
    deviceMemoryUsedMB: gpu ? round((freeAtStart - (addon.cudaInfo().freeBytes ?? 0)) / 2 ** 20) : null,
  };
  printTable(result);
  console.log(JSON.stringify(result, null, 2));
  if (values.json) await writeFile(values.json, `${JSON.stringify(result, null, 2)}\n`);
} finally {
  for (const id of identities) id.dispose();
  await rm(tmp, { recursive: true, force: true });
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function printTable(r: {
  deviceName?: string | undefined;
  resolution: string;
  gaussians: { face: number; mouth: number };
  stagesMs: Record<string, number>;
  batched: { sessions: number; msPerBatch: number; framesPerSecond: number; workspaceMBPerSession: number }[];
  identityMB: number;
}): void {
  console.log(
    `render benchmark on ${r.deviceName}: ${r.resolution}, ${r.gaussians.face} face + ${r.gaussians.mouth} mouth Gaussians`,
  );
  console.log('\nstage                      ms (single frame, synchronised)');
  for (const [stage, ms] of Object.entries(r.stagesMs)) console.log(`  ${stage.padEnd(24)} ${ms.toFixed(3)}`);
  console.log('\nsessions  ms/batch  frames/s  workspace MB/session (+ identity MB)');
  for (const b of r.batched)
    console.log(
      `  ${String(b.sessions).padStart(6)}  ${b.msPerBatch.toFixed(2).padStart(8)}  ${b.framesPerSecond.toFixed(1).padStart(8)}  ${b.workspaceMBPerSession.toFixed(1)} (+ ${r.identityMB.toFixed(1)})`,
    );
  console.log('');
}
