// A TrainingFrame built from a fixture identity's tracks (tests of the training graph need no prepared dataset):
// its pose and expression, its plate, random audio windows and a given target image.
import type { Identity } from '../identity/package.js';
import { CAMERA_STRIDE } from '../ops/rasterizer.js';
import { resizeRgb } from '../render/resize.js';
import { type DeviceKind, Tensor } from '../tensor.js';
import type { TrainingFrame } from '../train/training-data.js';
import { rng, uniform } from './random.js';

export function fixtureFrame(
  identity: Identity,
  device: DeviceKind,
  size: number,
  trackFrame: number,
  target: Float32Array,
  seed = 1,
): TrainingFrame {
  const m = identity.manifest;
  const a = m.model.audio;
  const frames = a.attentionBefore + 1 + a.attentionAfter;
  const scale = size / m.render.width;
  const k = m.render.intrinsics;
  const camera = new Float32Array(CAMERA_STRIDE);
  camera.set(identity.tracks.pose.subarray(16 * trackFrame, 16 * trackFrame + 16));
  camera.set([k.fx * scale, k.fy * scale, k.cx * scale, k.cy * scale], 16);
  const E = m.model.expressionDim;
  const plate = resizeRgb(
    identity.plates[identity.tracks.plateIndex[trackFrame] as number] as Uint8Array,
    m.render.width,
    m.render.height,
    size,
    size,
  );
  const intrinsics = { fx: k.fx * scale, fy: k.fy * scale, cx: k.cx * scale, cy: k.cy * scale };
  const bytes = Uint8Array.from(target, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
  return {
    t: trackFrame,
    target: Tensor.from(device, 'f32', [1, size, size, 3], target),
    faceTarget: Tensor.from(device, 'f32', [1, size, size, 3], target),
    plate: Tensor.from(device, 'u8', [size, size, 3], plate),
    camera: Tensor.from(device, 'f32', [1, CAMERA_STRIDE], camera),
    expression: Tensor.from(
      device,
      'f32',
      [1, E],
      identity.tracks.expression.slice(E * trackFrame, E * trackFrame + E),
    ),
    windows: Tensor.from(
      device,
      'f32',
      [frames, a.window, a.featureDim],
      uniform(rng(seed), frames * a.window * a.featureDim, -2, 2),
    ),
    geometry: null,
    lossWeight: null,
    intrinsics,
    host: {
      target: bytes,
      face: new Uint8Array(size * size).fill(255),
      mouth: new Uint8Array(size * size),
      landmarks: new Float32Array(0),
    },
    mouthOpen: 0,
  };
}
