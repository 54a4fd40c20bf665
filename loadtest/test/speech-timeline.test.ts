import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import wavefile from 'wavefile';
import { buildTimeline, loadSpeech, SpeechFileError } from '../src/speech-timeline.js';

async function scratch(t: Test) {
  const dir = await mkdtemp(path.join(tmpdir(), 'loadtest-speech-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function tone(rate: number, seconds: number, channels: number): Float64Array[] {
  return Array.from({ length: channels }, (_, c) =>
    Float64Array.from({ length: rate * seconds }, (_, i) => 0.5 * Math.sin((2 * Math.PI * (220 + c * 110) * i) / rate)),
  );
}

t.test('a stereo 44.1 kHz 24-bit WAV becomes 16 kHz mono', async (t) => {
  const dir = await scratch(t);
  const wav = new wavefile.WaveFile();
  const pcm = tone(44100, 1, 2).map((ch) => Array.from(ch, (x) => Math.round(x * 8388607)));
  wav.fromScratch(2, 44100, '24', pcm);
  const file = path.join(dir, 'stereo.wav');
  await writeFile(file, wav.toBuffer());
  const mono = await loadSpeech(file, 16000);
  t.ok(Math.abs(mono.length - 16000) <= 2, `${mono.length} samples`);
  const peak = mono.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  t.ok(peak > 0.3 && peak <= 1, `peak ${peak}`);
});

t.test('bad files are refused with the reason', async (t) => {
  const dir = await scratch(t);
  await t.rejects(loadSpeech(path.join(dir, 'missing.wav'), 16000), SpeechFileError);
  const text = path.join(dir, 'text.wav');
  await writeFile(text, 'this is not audio');
  await t.rejects(loadSpeech(text, 16000), /not a WAV file/);
  const silent = new wavefile.WaveFile();
  silent.fromScratch(1, 16000, '16', new Int16Array(16000));
  const quiet = path.join(dir, 'silent.wav');
  await writeFile(quiet, silent.toBuffer());
  await t.rejects(loadSpeech(quiet, 16000), /silent/);
});

t.test('the timeline: utterances and pauses, looped, with an onset per utterance', async (t) => {
  const speech = Float32Array.from(tone(16000, 1, 1)[0] as Float64Array);
  const tl = buildTimeline(speech, { sampleRate: 16000, utteranceMs: 400, gapMs: 600, durationMs: 5000 });
  t.equal(tl.utterances.length, 5);
  t.same(tl.utterances[1], { start: 16000, end: 16000 + 6400 });
  t.same(
    tl.onsets,
    tl.utterances.map((u) => u.start),
    'each utterance starts with sound after a pause',
  );
  t.equal(tl.signal[6400 + 10], 0, 'silence in the pause');
  t.throws(() => buildTimeline(speech, { sampleRate: 16000, utteranceMs: 0, gapMs: 100, durationMs: 1000 }));
});
