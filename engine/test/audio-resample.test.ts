import t from 'tap';
import { Resampler, resample } from '../src/audio/resample.js';
import { rng } from '../src/testing/random.js';

const tone = (hz: number, rate: number, seconds: number, amplitude = 0.5) =>
  Float32Array.from(
    { length: Math.round(rate * seconds) },
    (_, n) => amplitude * Math.sin((2 * Math.PI * hz * n) / rate),
  );

/** Largest deviation from the ideal tone at the output rate, away from the zero-padded ends. */
function toneError(out: Float32Array, hz: number, rate: number, amplitude = 0.5): number {
  let worst = 0;
  for (let n = Math.floor(0.05 * rate); n < out.length - 0.05 * rate; n++)
    worst = Math.max(worst, Math.abs((out[n] as number) - amplitude * Math.sin((2 * Math.PI * hz * n) / rate)));
  return worst;
}

const rms = (x: Float32Array, skip: number) => {
  let sum = 0;
  for (let n = skip; n < x.length - skip; n++) sum += (x[n] as number) ** 2;
  return Math.sqrt(sum / (x.length - 2 * skip));
};

for (const [from, hz] of [
  [48000, 1000],
  [48000, 6000],
  [44100, 1000],
  [44100, 3000],
  [22050, 2500],
  [8000, 1000],
  [16000, 1000],
] as const)
  t.test(`${from} Hz -> 16 kHz keeps a ${hz} Hz sine (frequency, amplitude and phase)`, async (t) => {
    const out = resample(tone(hz, from, 1), from, 16000);
    t.equal(out.length, 16000);
    const error = toneError(out, hz, 16000);
    t.ok(error < 2e-3, `max deviation ${error}`);
  });

for (const [from, hz] of [
  [48000, 9000],
  [48000, 12000],
  [44100, 15000],
  [44100, 20000],
] as const)
  t.test(`${from} Hz: a ${hz} Hz tone above the new Nyquist does not alias`, async (t) => {
    const out = resample(tone(hz, from, 1), from, 16000);
    const level = rms(out, 800) / (0.5 / Math.SQRT2);
    t.ok(level < 1e-3, `residual ${(20 * Math.log10(level)).toFixed(1)} dB`);
  });

t.test('streaming in random chunks gives exactly the one-shot output', async (t) => {
  const random = rng(7);
  const input = Float32Array.from({ length: 44100 }, () => random() - 0.5);
  const whole = resample(input, 44100, 16000);
  const r = new Resampler(44100, 16000);
  const parts: number[] = [];
  for (let at = 0; at < input.length; ) {
    const size = Math.floor(random() ** 2 * 2000);
    parts.push(...r.push(input.subarray(at, at + size)));
    at += size;
  }
  parts.push(...r.end());
  t.equal(parts.length, r.outputLength(input.length));
  t.same(Float32Array.from(parts), whole);
});

t.test('rejects unusable rates', async (t) => {
  t.throws(() => new Resampler(0, 16000), /input rate 0 Hz is not an integer in 1000\.\.768000/);
  t.throws(() => new Resampler(44100.5, 16000), /input rate 44100\.5 Hz/);
  t.throws(() => new Resampler(48000, 10_000_000), /output rate 10000000 Hz/);
  const r = new Resampler(48000, 16000);
  r.end();
  t.throws(() => r.push(new Float32Array(1)), /push after end/);
});
