// The whole frame pipeline on CUDA against the CPU: same fixture, same inputs, batched sessions.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { randomAudioWindows } from '../../bench/sampling.js';
import { makeFixtureIdentity } from '../../identity/fixture.js';
import { DeviceIdentity } from '../../render/device-identity.js';
import { Renderer } from '../../render/renderer.js';
import type { DeviceKind } from '../../tensor.js';
import { requireGpu } from './gpu.js';

test('renderer: CUDA frames match CPU frames for a batch of sessions', async () => {
  requireGpu();
  const dir = await mkdtemp(path.join(tmpdir(), 'splatcast-gpu-render-'));
  try {
    const fixtures = await Promise.all(
      [1, 2].map((seed) => makeFixtureIdentity({ out: path.join(dir, `id${seed}`), seed, frames: 8 })),
    );
    const size = { width: 256, height: 256 };
    const render = (device: DeviceKind) => {
      const ids = fixtures.map((f) => DeviceIdentity.upload(f, device, size));
      const renderer = new Renderer({ device, ...size });
      try {
        const requests = [0, 1, 2].map((s) => {
          const identity = ids[s % 2] as DeviceIdentity;
          return { identity, trackFrame: 2 * s, audioWindows: randomAudioWindows(identity.model, s) };
        });
        return renderer.renderRgb(requests).image.read().slice();
      } finally {
        renderer.dispose();
        for (const id of ids) id.dispose();
      }
    };
    const gpu = render('cuda');
    const cpu = render('cpu');
    let worst = 0;
    let total = 0;
    for (let i = 0; i < cpu.length; i++) {
      const e = Math.abs((gpu[i] as number) - (cpu[i] as number));
      worst = Math.max(worst, Number.isNaN(e) ? Number.POSITIVE_INFINITY : e);
      total += e;
    }
    // The networks agree to ~1e-6 relative, so Gaussians land within ~1e-6 px of each other; a pixel whose
    // 1/255 skip or termination decision flips can move by a few 1/255 steps, the image mean barely at all.
    const mean = total / cpu.length;
    assert.ok(mean < 1e-4, `mean abs error ${mean}`);
    assert.ok(worst < 0.05, `max abs error ${worst}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
