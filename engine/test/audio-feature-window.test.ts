import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { audioLatencyMs, FeatureWindow } from '../src/audio/feature-window.js';
import { LogMelStream, MEL_BANDS } from '../src/audio/log-mel.js';
import { readWavAt16k } from '../src/audio/wav.js';
import { type AudioConfig, defaultModelConfig } from '../src/model/config.js';

const audio = (over: Partial<AudioConfig> = {}): AudioConfig => ({
  ...defaultModelConfig().audio,
  ...over,
  featureDim: 2,
});
/** Step k's features are [k, -k], so a block shows which steps it holds. */
const steps = (from: number, to: number) =>
  Float32Array.from(Array.from({ length: to - from }, (_, i) => [from + i, -(from + i)]).flat());
const stepsOf = (block: Float32Array) => Array.from({ length: block.length / 2 }, (_, r) => block[2 * r] as number);

t.test('block rows, zero padding at the start and the lookahead', async (t) => {
  const w = new FeatureWindow(audio({ window: 16, windowAhead: 4 }));
  t.equal(w.featuresNeeded(0), 5);
  t.equal(w.featuresNeeded(10), 25);
  w.append(steps(0, 4));
  t.notOk(w.ready(0));
  t.throws(() => w.block(0), /frame 0 needs 5 feature steps, have 4/);
  w.append(steps(4, 25));
  t.ok(w.ready(10));
  t.notOk(w.ready(11));
  t.same(stepsOf(w.block(0)), [...new Array(11).fill(0), 0, 1, 2, 3, 4], 'steps -11..-1 are zeros');
  t.same(Array.from(w.block(0).subarray(22, 32)), [0, -0, 1, -1, 2, -2, 3, -3, 4, -4]);
  t.same(
    stepsOf(w.block(10)),
    Array.from({ length: 16 }, (_, r) => 9 + r),
    'frame 10 owns step 20: steps 9..24',
  );
});

t.test('end() zero-pads the tail; discardBefore frees memory but keeps later blocks', async (t) => {
  const w = new FeatureWindow(audio({ window: 8, windowAhead: 2 }));
  w.append(steps(0, 30));
  w.discardBefore(10);
  t.same(stepsOf(w.block(10)), [15, 16, 17, 18, 19, 20, 21, 22]);
  t.throws(() => w.block(9), /frame 9 needs step 13, discarded already/);
  t.notOk(w.ready(14));
  w.end();
  t.same(stepsOf(w.block(14)), [23, 24, 25, 26, 27, 28, 29, 0]);
  t.throws(() => w.append(new Float32Array(2)), /append after end/);
});

t.test('argument checks', async (t) => {
  t.throws(() => new FeatureWindow(audio({ featureRate: 60 })), /featureRate 60 is not a multiple of 25/);
  t.throws(() => new FeatureWindow(audio({ window: 4, windowAhead: 4 })), /windowAhead 4 must be less than window 4/);
  t.throws(() => new FeatureWindow(audio()).append(new Float32Array(3)), /3 values is not a whole number of 2-d steps/);
});

t.test('latency: lookahead steps, attention frames and the analysis half-window', async (t) => {
  // The default keeps the whole audio lookahead under 80 ms (3 steps + the half analysis window).
  t.equal(audioLatencyMs(defaultModelConfig().audio), 3 * 20 + 12.5);
  t.equal(audioLatencyMs({ ...defaultModelConfig().audio, windowAhead: 8, attentionAfter: 3 }), 8 * 20 + 3 * 40 + 12.5);
});

const obama = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/media/audio/en_obama_5s.wav');
t.test(
  'streams a real clip into per-frame blocks',
  { skip: existsSync(obama) ? false : `test audio missing: ${obama}` },
  async (t) => {
    const pcm = readWavAt16k(readFileSync(obama));
    const config = defaultModelConfig().audio;
    const mel = new LogMelStream();
    const w = new FeatureWindow(config);
    let frame = 0;
    for (let at = 0; at < pcm.length; at += 640) {
      mel.push(pcm.subarray(at, at + 640)); // one 25-fps frame of audio at a time
      w.append(mel.pull());
      while (w.ready(frame)) {
        t.equal(w.block(frame).length, config.window * MEL_BANDS);
        w.discardBefore(++frame);
      }
    }
    t.ok(frame >= Math.floor(pcm.length / 640) - 3, `${frame} frames produced while streaming`);
    mel.end();
    w.append(mel.pull());
    w.end();
    t.equal(w.length, Math.ceil(pcm.length / 320));
  },
);
