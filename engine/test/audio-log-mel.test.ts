import t from 'tap';
import {
  FFT_SIZE,
  HOP,
  hzToMel,
  LOG_MEL_MEAN,
  LOG_MEL_STD,
  LogMelStream,
  MEL_BANDS,
  melFilterbank,
  melToHz,
  SAMPLE_RATE,
  WINDOW,
} from '../src/audio/log-mel.js';
import { rng } from '../src/testing/random.js';

/** Speech-like test audio: two tones with a wobbling level over noise. */
function testAudio(samples: number, seed: number): Float32Array {
  const random = rng(seed);
  return Float32Array.from({ length: samples }, (_, n) => {
    const time = n / SAMPLE_RATE;
    const level = 0.3 + 0.2 * Math.sin(2 * Math.PI * 3 * time);
    return (
      level * (Math.sin(2 * Math.PI * 220 * time) + 0.5 * Math.sin(2 * Math.PI * 2600 * time)) + 0.05 * (random() - 0.5)
    );
  });
}

function features(pcm: Float32Array): Float32Array {
  const s = new LogMelStream();
  s.push(pcm);
  s.end();
  return s.pull();
}

t.test('chunking does not change the features (bit for bit)', async (t) => {
  const pcm = testAudio(3 * SAMPLE_RATE + 123, 1);
  const whole = features(pcm);
  t.equal(whole.length, Math.ceil(pcm.length / HOP) * MEL_BANDS);
  for (const seed of [2, 3, 4]) {
    const random = rng(seed);
    const s = new LogMelStream();
    const parts: Float32Array[] = [];
    for (let at = 0; at < pcm.length; ) {
      const size = Math.floor(random() ** 3 * 3000); // many small chunks (0 and 1 included), a few large
      s.push(pcm.subarray(at, at + size));
      at += size;
      if (random() < 0.5) parts.push(s.pull());
    }
    s.end();
    parts.push(s.pull());
    const streamed = Float32Array.from(parts.flatMap((p) => Array.from(p)));
    t.equal(Buffer.compare(Buffer.from(streamed.buffer), Buffer.from(whole.buffer)), 0, `seed ${seed}`);
  }
});

t.test('frames become available 200 samples after their centre', async (t) => {
  const s = new LogMelStream();
  s.push(new Float32Array(199));
  t.equal(s.available, 0);
  s.push(new Float32Array(1));
  t.equal(s.available, 1, 'frame 0 spans samples -200..199');
  s.push(new Float32Array(319));
  t.equal(s.available, 1);
  s.push(new Float32Array(1));
  t.equal(s.available, 2);
  t.equal(s.pull().length, 2 * MEL_BANDS);
  t.equal(s.framesPulled, 2);
  s.push(new Float32Array(2));
  s.end();
  t.equal(s.available, 0, '522 samples end with frame 1 (frame 2 would be centred past the end)');
  t.throws(() => s.push(new Float32Array(1)), /push after end/);
});

t.test('filterbank: Slaney mel scale and area normalisation', async (t) => {
  t.equal(hzToMel(1000), 15);
  t.ok(Math.abs(hzToMel(8000) - 45.24564) < 1e-5, 'librosa: hz_to_mel(8000) = 45.24564');
  for (const hz of [0, 440, 999, 1000, 3000, 8000]) t.ok(Math.abs(melToHz(hzToMel(hz)) - hz) < 1e-9, `${hz} Hz`);
  const bank = melFilterbank();
  t.equal(bank.length, MEL_BANDS);
  bank.forEach((row, m) => {
    if (!row.some((w) => w > 0)) t.fail(`band ${m} is empty`);
  });
});

t.test('one frame against a float64 DFT reference', async (t) => {
  const pcm = testAudio(SAMPLE_RATE, 5);
  const ours = features(pcm);
  const bank = melFilterbank();
  for (const j of [0, 1, 25, 49]) {
    const frame = new Float64Array(FFT_SIZE);
    for (let n = 0; n < WINDOW; n++) {
      const at = j * HOP - WINDOW / 2 + n;
      const hann = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / WINDOW);
      frame[n] = (at >= 0 && at < pcm.length ? (pcm[at] as number) : 0) * hann;
    }
    let worst = 0;
    for (let m = 0; m < MEL_BANDS; m++) {
      let energy = 0;
      for (let k = 0; k <= FFT_SIZE / 2; k++) {
        let re = 0;
        let im = 0;
        for (let n = 0; n < FFT_SIZE; n++) {
          re += (frame[n] as number) * Math.cos((2 * Math.PI * k * n) / FFT_SIZE);
          im -= (frame[n] as number) * Math.sin((2 * Math.PI * k * n) / FFT_SIZE);
        }
        energy += (bank[m]?.[k] as number) * (re * re + im * im);
      }
      const expected = (Math.log(Math.max(1e-10, energy)) - LOG_MEL_MEAN) / LOG_MEL_STD;
      worst = Math.max(worst, Math.abs((ours[j * MEL_BANDS + m] as number) - expected));
    }
    t.ok(worst < 1e-5, `frame ${j}: max error ${worst}`);
  }
});

t.test('a 1 kHz sine peaks in the band centred nearest 1 kHz', async (t) => {
  const pcm = Float32Array.from(
    { length: SAMPLE_RATE },
    (_, n) => 0.5 * Math.sin((2 * Math.PI * 1000 * n) / SAMPLE_RATE),
  );
  const out = features(pcm);
  const top = hzToMel(SAMPLE_RATE / 2);
  const centres = Array.from({ length: MEL_BANDS }, (_, m) => melToHz(((m + 1) * top) / (MEL_BANDS + 1)));
  const expected = centres.reduce(
    (best, c, m) => (Math.abs(c - 1000) < Math.abs((centres[best] as number) - 1000) ? m : best),
    0,
  );
  const row = Array.from(out.subarray(25 * MEL_BANDS, 26 * MEL_BANDS));
  const peak = row.indexOf(Math.max(...row));
  t.equal(peak, expected, `band ${peak} (centre ${centres[peak]?.toFixed(0)} Hz)`);
  t.ok((row[peak] as number) - (row[peak + 6] as number) > 3, 'energy falls off away from the tone');
});

t.test('silence reads as the log floor', async (t) => {
  const out = features(new Float32Array(SAMPLE_RATE));
  const floor = (Math.log(1e-10) - LOG_MEL_MEAN) / LOG_MEL_STD;
  t.ok(out.every((v) => Math.abs(v - floor) < 1e-6));
});
