// A directory of training checkpoints: each one a state JSON plus one safetensors file, written atomically (a
// temporary directory renamed into place) so a crash mid-write leaves the previous checkpoint intact; the newest
// two are kept. What the tensors and state mean is the caller's (checkpoint.ts for one identity, pretrain.ts for a
// pre-training run); this file only stores and finds them.
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeDurably } from '../identity/package.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../identity/safetensors.js';

const STATE_FILE = 'state.json';
const TENSORS_FILE = 'tensors.safetensors';
const PREFIX = 'checkpoint-';
const KEEP = 2;

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** Every checkpoint's state names its run; `done` (iterations completed) orders checkpoints. */
export interface StoredState {
  fingerprint: string;
  done: number;
}

const dirName = (done: number) => `${PREFIX}${String(done).padStart(9, '0')}`;

/** Writes one checkpoint; returns its directory. */
export async function writeCheckpoint(
  dir: string,
  state: StoredState,
  tensors: ReadonlyMap<string, SafetensorsTensor>,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const final = path.join(dir, dirName(state.done));
  const temp = `${final}.tmp-${process.pid}`;
  await rm(temp, { recursive: true, force: true });
  await mkdir(temp);
  try {
    await writeDurably(path.join(temp, TENSORS_FILE), encodeSafetensors(tensors, { format: 'splatcast-checkpoint' }));
    await writeDurably(path.join(temp, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
    await rm(final, { recursive: true, force: true });
    await rename(temp, final);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  const all = await listCheckpoints(dir);
  for (const old of all.slice(0, Math.max(0, all.length - KEEP)))
    await rm(path.join(dir, old), { recursive: true, force: true });
  return final;
}

async function listCheckpoints(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => n.startsWith(PREFIX) && !n.includes('.tmp-')).sort();
}

/**
 * The newest checkpoint in `dir` whose fingerprint matches and that `decode` accepts, or null. A damaged one
 * (unreadable, truncated, or rejected by decode with an error) is skipped in favour of the one before it; `onSkip`
 * hears why.
 */
export async function readNewestCheckpoint<T>(
  dir: string,
  fingerprint: string,
  decode: (state: unknown, tensors: Map<string, SafetensorsTensor>) => T,
  onSkip: (name: string, why: string) => void = () => {},
): Promise<T | null> {
  for (const name of (await listCheckpoints(dir)).reverse()) {
    try {
      let state: StoredState;
      try {
        state = JSON.parse(await readFile(path.join(dir, name, STATE_FILE), 'utf8')) as StoredState;
      } catch (error) {
        throw new CheckpointError(`${STATE_FILE} is missing or not JSON (${(error as Error).message})`);
      }
      if (state.fingerprint !== fingerprint) {
        onSkip(name, 'it belongs to another run (datasets, size, model, schedule or seed differ)');
        continue;
      }
      const { tensors } = decodeSafetensors(await readFile(path.join(dir, name, TENSORS_FILE)));
      return decode(state, tensors);
    } catch (error) {
      onSkip(name, (error as Error).message);
    }
  }
  return null;
}
