// A small fixture identity for the server tests: few Gaussians, small hash tables, so the CPU engine renders a
// 64x64 frame in a few milliseconds even on a busy CI machine.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultModelConfig, type ModelConfig, makeFixtureIdentity } from '@splatcast/engine';

export const SIZE = { width: 64, height: 64 };

export function smallModel(): ModelConfig {
  const model = defaultModelConfig();
  for (const grid of [model.face.motionGrid, model.face.alignerGrid, model.mouth.motionGrid, model.mouth.alignerGrid])
    grid.log2Table = 10;
  return model;
}

/** What the helpers need of a tap test. */
export interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Writes fixture identities (one per seed) into a temporary directory; returns their directories. */
export async function fixtureIdentities(t: Teardown, seeds: number[]): Promise<string[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'splatcast-server-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return Promise.all(
    seeds.map(async (seed) => {
      const out = path.join(dir, `fixture-${seed}`);
      await makeFixtureIdentity({
        out,
        seed,
        faceGaussians: 1000,
        mouthGaussians: 200,
        frames: 12,
        model: smallModel(),
      });
      return out;
    }),
  );
}

/** Deterministic speech-like test signal: a few harmonics with a slow amplitude envelope, in [-0.5, 0.5]. */
export function syntheticSpeech(samples: number, sampleRate: number, seed = 1): Float32Array {
  const out = new Float32Array(samples);
  for (let i = 0; i < samples; i++) {
    const t = i / sampleRate;
    const envelope = 0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t + seed);
    out[i] =
      0.25 * envelope * (Math.sin(2 * Math.PI * 180 * t) + 0.5 * Math.sin(2 * Math.PI * 360 * t + seed)) +
      0.05 * Math.sin(2 * Math.PI * 1100 * t);
  }
  return out;
}

/** Resolves once `predicate` holds (polled; it may be async), or rejects after `timeoutMs`. */
export async function until(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await predicate())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Whether a process id still names a live process. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Alive and not a zombie: an orphan that exited waits for a reaper to collect it, and PID 1 of a container may
 * never do so, so `alive` alone would count it as running.
 */
export function running(pid: number): boolean {
  if (!alive(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false; // gone between the two checks
  }
}
