// The preparation stage shared by adaptation and pre-training: the identity's dataset, made once by the engine's
// `prepare` from the accepted source video and kept, so a restarted or retried job skips it.
import { readDatasetManifest } from '@splatcast/engine/dist/prepare/dataset-manifest.js';
import { prepareDataset } from '@splatcast/engine/dist/prepare/prepare-dataset.js';
import type { IdentityPaths } from '../storage/data-dir.js';
import type { JobContext } from './executor.js';

export interface PrepareSettings {
  /** Frame size of the dataset (default 512). */
  size?: number;
  /** Use only the start of the video. */
  maxSeconds?: number;
}

/** Makes (or finds complete from an earlier attempt) the dataset of one identity. */
export async function ensureDataset(
  paths: IdentityPaths,
  settings: PrepareSettings,
  context: JobContext,
  stagePrefix = '',
): Promise<{ frames: number; reused: boolean }> {
  const existing = await readDatasetManifest(paths.dataset).catch(() => undefined);
  if (existing) {
    context.log(
      'info',
      `${paths.dataset}: the dataset from an earlier attempt is complete (${existing.frameCount} frames)`,
    );
    return { frames: existing.frameCount, reused: true };
  }
  const { manifest, timings } = await prepareDataset(paths.source, paths.dataset, {
    size: settings.size ?? 512,
    limits: settings.maxSeconds ? { maxSeconds: settings.maxSeconds } : undefined,
    onProgress: (stage, done, total) => {
      // prepare has no signal; stopping at its next progress report is its safe point (it removes its staging).
      context.signal.throwIfAborted();
      context.progress({
        stage: `${stagePrefix}prepare: ${stage}`,
        ...(done !== undefined && { iteration: done, total }),
      });
    },
  });
  const t = manifest.tracking;
  context.log(
    'info',
    `dataset: ${manifest.frameCount} frames at ${manifest.size}² (${t.tracked} tracked, ${t.interpolated} interpolated, ` +
      `${t.dropped} dropped), in ${Object.entries(timings)
        .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
        .join(', ')}`,
  );
  for (const warning of manifest.warnings ?? []) context.log('warn', warning);
  return { frames: manifest.frameCount, reused: false };
}
