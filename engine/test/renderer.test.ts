// End to end on the CPU: fixture identity -> batched renderer -> I420 frames.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { randomAudioWindows } from '../src/bench/sampling.js';
import { makeFixtureIdentity } from '../src/identity/fixture.js';
import { defaultModelConfig, type ModelConfig } from '../src/model/config.js';
import { DeviceIdentity } from '../src/render/device-identity.js';
import { type FrameRequest, trackFrameAt } from '../src/render/frame-request.js';
import { Renderer } from '../src/render/renderer.js';

function smallModel(): ModelConfig {
  const model = defaultModelConfig();
  for (const grid of [model.face.motionGrid, model.face.alignerGrid, model.mouth.motionGrid, model.mouth.alignerGrid])
    grid.log2Table = 10;
  return model;
}

const dir = await mkdtemp(path.join(tmpdir(), 'splatcast-render-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const make = (name: string, seed: number) =>
  makeFixtureIdentity({
    out: path.join(dir, name),
    seed,
    faceGaussians: 3000,
    mouthGaussians: 600,
    frames: 6,
    model: smallModel(),
  });
const [fixtureA, fixtureB] = await Promise.all([make('a', 1), make('b', 2)]);
const size = { width: 96, height: 96 };
const a = DeviceIdentity.upload(fixtureA, 'cpu', size);
const b = DeviceIdentity.upload(fixtureB, 'cpu', size);
t.teardown(() => {
  a.dispose();
  b.dispose();
});
const request = (identity: DeviceIdentity, trackFrame: number, seed: number): FrameRequest => ({
  identity,
  trackFrame,
  audioWindows: randomAudioWindows(identity.model, seed),
});

t.test('the composite shows Gaussians over the plate and is deterministic', async (t) => {
  const renderer = new Renderer({ device: 'cpu', ...size });
  t.teardown(() => renderer.dispose());
  const first = renderer.renderRgb([request(a, 0, 1)]);
  const image = first.image.read().slice();
  t.ok(first.intersections > 0, 'Gaussians were binned to tiles');
  const again = renderer.renderRgb([request(a, 0, 1)]).image.read();
  t.same(Buffer.from(again.buffer), Buffer.from(image.buffer), 'same inputs, same image');
  // The head covers the image centre: it differs from the plate there, which the corners still show.
  const plate = fixtureA.plates[0] as Uint8Array; // plates are at 512², sample the same relative spots
  const at = (img: Float32Array, x: number, y: number) => [0, 1, 2].map((c) => img[(y * 96 + x) * 3 + c] as number);
  const plateAt = (x: number, y: number) =>
    [0, 1, 2].map(
      (c) =>
        (plate[(Math.floor(((y + 0.5) * 512) / 96) * 512 + Math.floor(((x + 0.5) * 512) / 96)) * 3 + c] as number) /
        255,
    );
  const diff = (p: number[], q: number[]) => Math.max(...p.map((v, i) => Math.abs(v - (q[i] as number))));
  t.ok(diff(at(image, 48, 48), plateAt(48, 48)) > 0.05, 'centre shows the head, not the plate');
  t.ok(diff(at(image, 1, 1), plateAt(1, 1)) < 0.05, 'corner shows the plate');
  t.ok(
    image.every((v) => v >= 0 && v <= 1),
    'colours in [0, 1]',
  );
});

t.test('a batch renders each session exactly as it renders alone', async (t) => {
  const renderer = new Renderer({ device: 'cpu', ...size });
  t.teardown(() => renderer.dispose());
  const requests = [request(a, 0, 1), request(b, 3, 2), request(a, 5, 3)];
  const batch = renderer.renderBatch(requests).i420.map((f) => f.slice());
  t.equal(batch.length, 3);
  requests.forEach((r, s) => {
    const alone = renderer.renderBatch([r]).i420[0] as Uint8Array;
    t.same(Buffer.from(alone), Buffer.from(batch[s] as Uint8Array), `session ${s}`);
  });
  t.not(
    Buffer.compare(Buffer.from(batch[0] as Uint8Array), Buffer.from(batch[1] as Uint8Array)),
    0,
    'identities differ',
  );
});

t.test('audio drives the motion: different audio, different frame', async (t) => {
  const renderer = new Renderer({ device: 'cpu', ...size });
  t.teardown(() => renderer.dispose());
  // Compared in float: a fixture's random networks move Gaussians by fractions of a pixel.
  const x = renderer
    .renderRgb([request(a, 2, 10)])
    .image.read()
    .slice();
  const y = renderer.renderRgb([request(a, 2, 11)]).image.read();
  t.ok(x.some((v, i) => v !== y[i]));
});

t.test('bad requests are refused with clear errors', async (t) => {
  const renderer = new Renderer({ device: 'cpu', ...size });
  t.teardown(() => renderer.dispose());
  t.throws(() => renderer.renderBatch([]), /at least one request/);
  t.throws(() => renderer.renderBatch([{ ...request(a, 0, 1), trackFrame: 6 }]), /trackFrame 6 outside 0..5/);
  t.throws(
    () => renderer.renderBatch([{ ...request(a, 0, 1), audioWindows: new Float32Array(3) }]),
    /audioWindows holds 3 values/,
  );
  t.throws(
    () => renderer.renderBatch([{ ...request(a, 0, 1), expression: new Float32Array(2) }]),
    /expression holds 2 values/,
  );
  const other = new Renderer({ device: 'cpu', width: 64, height: 64 });
  t.throws(() => other.renderBatch([request(a, 0, 1)]), /uploaded for 96x96/);
  other.dispose();
  t.throws(() => new Renderer({ device: 'cpu', width: 95, height: 96 }), /must be even/);
  const gone = DeviceIdentity.upload(fixtureA, 'cpu', size);
  gone.dispose();
  t.throws(() => renderer.renderBatch([request(gone, 0, 1)]), /was disposed/);
  renderer.dispose();
  t.throws(() => renderer.renderBatch([request(a, 0, 1)]), /renderer was disposed/);
});

t.test('the track plays forwards then backwards', async (t) => {
  t.same(
    [0, 1, 2, 3, 4, 5, 6, 7].map((i) => trackFrameAt(i, 4)),
    [0, 1, 2, 3, 2, 1, 0, 1],
  );
  t.equal(trackFrameAt(9, 1), 0);
});
