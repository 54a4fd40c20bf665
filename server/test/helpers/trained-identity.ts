// A real identity, briefly trained, for the tests whose mouth must follow the audio (the generated fixture's never
// moves): the shared may_5s clip prepared at 64x64 (4 s) and trained ~1,500 CPU iterations, about 1.5 minutes here.
// Its track is then pinned to the first frame, so idle frames are all alike and a change of the mouth can only come
// from the audio.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { trainIdentity } from '@splatcast/engine';
import { prepareDataset } from '@splatcast/engine/dist/prepare/prepare-dataset.js';
import type { Teardown } from './fixture.js';

export const MAY_VIDEO = path.resolve(
  import.meta.dirname,
  '..',
  '..',
  '..',
  '..',
  'shared',
  'media',
  'video',
  'may_5s.mp4',
);

/** Why a trained identity cannot be made here, or undefined when it can. */
export function noTrainingClip(): string | undefined {
  return existsSync(MAY_VIDEO) ? undefined : `no shared clip ${MAY_VIDEO}`;
}

/** Prepares, trains and pins the identity; returns its package directory (removed at teardown). */
export async function trainedStillIdentity(t: Teardown, log: (line: string) => void = () => {}): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'splatcast-trained-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const dataset = path.join(root, 'dataset');
  const out = path.join(root, 'identity');
  await prepareDataset(MAY_VIDEO, dataset, { size: 64, limits: { maxSeconds: 4 } });
  await trainIdentity({
    dataset,
    out,
    device: 'cpu',
    seed: 1,
    initialGaussians: { face: 2000, mouth: 500 },
    schedule: {
      staticIterations: 100,
      faceIterations: 1000,
      mouthIterations: 300,
      fuseIterations: 100,
      // Few Gaussians keep the CPU engine fast enough for 25 fps at 256x256 on a loaded machine.
      maxGaussians: { face: 8000, mouth: 1500 },
    },
    onLog: log,
  });
  await pinTrack(out);
  return out;
}

/** Rewrites the package's track as its first frame alone (a still head; the rest of the package is untouched). */
async function pinTrack(dir: string): Promise<void> {
  const file = path.join(dir, 'identity.json');
  const manifest = JSON.parse(await readFile(file, 'utf8'));
  const tracks = manifest.tracks;
  for (const key of ['pose', 'expression', 'plateIndex']) tracks[key] = tracks[key].slice(0, 1);
  await writeFile(file, JSON.stringify(manifest));
}
