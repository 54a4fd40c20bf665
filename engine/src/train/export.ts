// Writes a trained identity package (docs/identity-format.md): the learned weights, and the training clip's frames
// as the tracks the server replays (pose, expression, torso plate), at the dataset's full size.
import { FORMAT_VERSION, type IdentityManifest, type ManifestDraft, TRACK_FPS } from '../identity/manifest.js';
import { saveIdentity } from '../identity/package.js';
import type { IdentityWeights } from '../identity/tensors.js';
import type { ModelConfig } from '../model/config.js';
import type { GaussianCounts } from './model-params.js';
import type { TrainingData } from './training-data.js';

export interface IdentityDetails {
  name: string;
  consent: IdentityManifest['consent'];
}

export interface TrainedIdentity {
  model: ModelConfig;
  weights: IdentityWeights;
  gaussians: GaussianCounts;
  /** The training data: its frames become the tracks. */
  dataset: TrainingData;
  /** Added to the dataset's tools in provenance. */
  tools: Record<string, string>;
  details: Partial<IdentityDetails>;
}

const NO_CONSENT: IdentityManifest['consent'] = {
  subjectConsent: false,
  statement: 'No consent was recorded with this identity: use it for evaluation only.',
  recordedAt: null,
};

export async function writeTrainedIdentity(out: string, t: TrainedIdentity): Promise<IdentityManifest> {
  const m = t.dataset.manifest;
  const frames = t.dataset.frames.map((f) => f.t);
  const pose = frames.map((i) => m.frames[i]?.pose as number[]);
  const expression = frames.map((i) => m.frames[i]?.expression as number[]);
  const plates = await Promise.all(frames.map((i) => t.dataset.reader.torsoPlate(i)));
  const draft: ManifestDraft = {
    formatVersion: FORMAT_VERSION,
    kind: 'trained',
    name: t.details.name ?? m.source.name.replace(/\.[^.]+$/, ''),
    createdAt: new Date().toISOString(),
    model: t.model,
    gaussians: t.gaussians,
    render: { width: m.size, height: m.size, intrinsics: m.camera.intrinsics },
    tracks: { fps: TRACK_FPS, pose, expression, plateIndex: frames.map((_, k) => k) },
    plates: { count: plates.length },
    provenance: { source: { name: m.source.name, sha256: m.source.sha256 }, tools: { ...m.tools, ...t.tools } },
    consent: t.details.consent ?? NO_CONSENT,
  };
  return saveIdentity(out, { manifest: draft, weights: t.weights, plates });
}
