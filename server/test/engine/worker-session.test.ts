// The worker's per-session state and its scheduler, in process (no fork): ticks are driven by hand, so these tests
// are exact and do not depend on the machine's speed.
import { Renderer } from '@splatcast/engine';
import t from 'tap';
import { FrameScheduler } from '../../src/engine/frame-scheduler.js';
import { IdentityCache, type IdentityEntry } from '../../src/engine/identity-cache.js';
import type { EngineFrame, SessionEvent } from '../../src/engine/protocol.js';
import { SAMPLES_PER_FRAME } from '../../src/engine/utterance.js';
import { WorkerSession } from '../../src/engine/worker-session.js';
import { fixtureIdentities, SIZE, syntheticSpeech, type Teardown } from '../helpers/fixture.js';

const [dir] = (await fixtureIdentities(t, [1])) as [string];

type Log = ({ kind: 'frame' } & EngineFrame) | ({ kind: 'event' } & SessionEvent);

/** A worker's insides without the process: one renderer, an identity cache, sessions and a scheduler. */
async function harness(t: Teardown, idleCacheBytes = 1 << 22) {
  const renderer = new Renderer({ device: 'cpu', ...SIZE });
  const cache = new IdentityCache({ device: 'cpu', ...SIZE, maxLookaheadMs: 80, idleCacheBytes });
  const sessions = new Map<string, WorkerSession>();
  const log: Log[] = [];
  const sink = {
    frame: (frame: EngineFrame) => log.push({ kind: 'frame', ...frame }),
    event: (event: SessionEvent) => log.push({ kind: 'event', ...event }),
  };
  const scheduler = new FrameScheduler(renderer, sessions, cache, sink, 25, (error) => {
    throw error;
  });
  t.teardown(() => {
    scheduler.stop();
    cache.dispose();
    renderer.dispose();
  });
  const open = async (id: string): Promise<WorkerSession> => {
    const entry = await cache.acquire('fixture', dir);
    const session = new WorkerSession(id, entry, scheduler.tick, sink.event);
    sessions.set(id, session);
    return session;
  };
  let tick = 0;
  const run = (n: number) => {
    for (let i = 0; i < n; i++) scheduler.runTick(tick++);
  };
  const frames = (id: string) =>
    log.filter((e): e is Log & { kind: 'frame' } => e.kind === 'frame' && e.sessionId === id);
  return { renderer, cache, sessions, log, scheduler, open, run, frames };
}

/** The speech frames' audio, concatenated. */
function spoken(frames: readonly EngineFrame[]): Float32Array {
  const speech = frames.filter((f) => f.speaking);
  const out = new Float32Array(speech.length * SAMPLES_PER_FRAME);
  speech.forEach((f, i) => {
    out.set(f.audio, i * SAMPLES_PER_FRAME);
  });
  return out;
}

t.test('the frames carry the pushed 16-kHz audio back, sample exact, over 30 s in odd chunks', async (t) => {
  const h = await harness(t);
  const session = await h.open('s');
  const input = syntheticSpeech(30 * 16000, 16000);
  // Chunks of irregular sizes, pushed a little faster than they play, with ticks in between (some underrun).
  let at = 0;
  let chunk = 0;
  while (at < input.length) {
    const size = 1 + ((chunk++ * 7919) % 3000);
    session.pushAudio(input.subarray(at, at + size), 16000);
    at += size;
    if (chunk % 3 === 0) h.run(1);
  }
  session.endSegment();
  while (!h.log.some((e) => e.kind === 'event' && e.type === 'playback_finished')) h.run(1);
  const frames = h.frames('s');
  const audio = spoken(frames);
  t.equal(audio.length, input.length, '750 frames of 640 samples');
  const firstDiff = audio.findIndex((v, i) => v !== input[i]);
  t.equal(firstDiff, -1, 'every sample equal');
  t.ok(
    frames.every((f, i) => f.frameIndex === i && f.ptsMs === i * 40 && f.audio.length === SAMPLES_PER_FRAME),
    'one frame per tick, 40 ms apart, 640 samples each',
  );
  const finished = h.log.find((e) => e.kind === 'event' && e.type === 'playback_finished');
  t.match(finished, { positionMs: 30000, interrupted: false });
});

t.test('a segment that does not fill its last frame is zero-padded', async (t) => {
  const h = await harness(t);
  const session = await h.open('s');
  const input = syntheticSpeech(16000 + 100, 16000);
  session.pushAudio(input, 16000);
  session.endSegment();
  h.run(30);
  const audio = spoken(h.frames('s'));
  t.equal(audio.length, 26 * SAMPLES_PER_FRAME, '26 frames');
  t.equal(
    audio.findIndex((v, i) => i < input.length && v !== input[i]),
    -1,
    'the audio as pushed',
  );
  t.ok(
    audio.subarray(input.length).every((v) => v === 0),
    'padding is silence',
  );
  const finished = h.log.find((e) => e.kind === 'event' && e.type === 'playback_finished');
  t.match(finished, { positionMs: (16100 * 1000) / 16000, interrupted: false });
});

t.test('24 and 48 kHz are resampled to 16 kHz', async (t) => {
  for (const rate of [24000, 48000]) {
    const h = await harness(t);
    const session = await h.open('s');
    const tone = (r: number, n: number) =>
      Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / r));
    // Pushed in chunks that do not line up with the rate ratio.
    const input = tone(rate, rate);
    for (let at = 0; at < input.length; at += 1001) session.pushAudio(input.subarray(at, at + 1001), rate);
    session.endSegment();
    h.run(30);
    const audio = spoken(h.frames('s'));
    t.equal(audio.length, 16000, `${rate}: one second at 16 kHz`);
    const expected = tone(16000, 16000);
    let worst = 0;
    for (let i = 200; i < 15800; i++) worst = Math.max(worst, Math.abs((audio[i] as number) - (expected[i] as number)));
    t.ok(worst < 1e-3, `${rate}: matches the 16-kHz tone away from the edges (max error ${worst.toExponential(2)})`);
  }
});

t.test('a frame plays once its lookahead has arrived, not before', async (t) => {
  const h = await harness(t);
  const session = await h.open('s');
  // Frame 0's block ends windowAhead feature steps after its own; log-mel needs half a window past that.
  const needed = (session.entry.lookaheadMs * 16000) / 1000;
  t.equal(needed, 1160, '72.5 ms of audio for frame 0 with the default windowAhead of 3');
  session.pushAudio(new Float32Array(needed - 1).fill(0.1), 16000);
  h.run(1);
  t.equal(h.frames('s').at(-1)?.speaking, false, 'one sample short: idle');
  session.pushAudio(new Float32Array(1).fill(0.1), 16000);
  h.run(1);
  t.equal(h.frames('s').at(-1)?.speaking, true, 'complete: speaking');
  t.same(
    h.log.filter((e) => e.kind === 'event').map((e) => e.type),
    ['playback_started'],
  );
});

t.test('playback events frame each segment, and segments queue', async (t) => {
  const h = await harness(t);
  const session = await h.open('s');
  session.pushAudio(syntheticSpeech(8000, 16000), 16000);
  session.endSegment();
  session.pushAudio(syntheticSpeech(4800, 16000, 2), 16000);
  session.endSegment();
  session.endSegment(); // nothing open: no-op
  h.run(30);
  const story = h.log.map((e) => (e.kind === 'frame' ? (e.speaking ? 'S' : '.') : e.type));
  const text = story.join(' ');
  t.equal(
    text,
    [
      'playback_started',
      ...Array(13).fill('S'),
      'playback_finished',
      'playback_started',
      ...Array(8).fill('S'),
      'playback_finished',
      ...Array(9).fill('.'),
    ].join(' '),
    '13 frames of the first segment, 8 of the second, then idle',
  );
  const finished = h.log.filter((e) => e.kind === 'event' && e.type === 'playback_finished');
  t.match(finished, [
    { positionMs: 500, interrupted: false },
    { positionMs: 300, interrupted: false },
  ]);
});

t.test('interrupt drops the queue at once and the next frame is the idle frame', async (t) => {
  const h = await harness(t);
  const session = await h.open('s');
  session.pushAudio(syntheticSpeech(32000, 16000), 16000);
  h.run(10);
  t.ok(
    h
      .frames('s')
      .slice(-5)
      .every((f) => f.speaking),
    'speaking',
  );
  t.same(session.interrupt(), { positionMs: 400, interrupted: true });
  t.match(h.log.at(-1), { kind: 'event', type: 'playback_finished', positionMs: 400, interrupted: true });
  h.run(1);
  const next = h.frames('s').at(-1) as EngineFrame;
  t.equal(next.speaking, false);
  t.ok(
    next.audio.every((v) => v === 0),
    'silent',
  );
  const entry = session.entry as IdentityEntry;
  const idle = h.renderer.renderBatch([
    { identity: entry.identity, trackFrame: 10, audioWindows: entry.silenceWindows },
  ]).i420[0] as Uint8Array;
  t.ok(Buffer.from(next.i420).equals(Buffer.from(idle)), 'the idle (silence) frame of its track frame');
  t.equal(session.bufferedMs, 0);
  t.same(session.interrupt(), { positionMs: 0, interrupted: false }, 'nothing queued: nothing to interrupt');
  t.equal(h.log.filter((e) => e.kind === 'event' && e.interrupted).length, 1, 'one playback_finished only');
});

t.test('a playing segment that runs dry shows idle frames and counts underruns', async (t) => {
  const h = await harness(t);
  const session = await h.open('s');
  session.pushAudio(syntheticSpeech(3200, 16000), 16000);
  h.run(8);
  const frames = h.frames('s');
  t.ok(frames.filter((f) => f.speaking).length >= 2, 'played what it could');
  t.ok(session.underruns > 0, `${session.underruns} underruns`);
  t.equal(frames.at(-1)?.speaking, false);
});

t.test('every session of a tick goes into one renderBatch call', async (t) => {
  const h = await harness(t);
  const sessions = await Promise.all([0, 1, 2, 3, 4].map((i) => h.open(`s${i}`)));
  sessions.forEach((s, i) => {
    s.pushAudio(syntheticSpeech(16000, 16000, i), 16000);
  });
  h.run(10);
  const stats = h.scheduler.stats();
  t.equal(stats.renderCalls, 10, 'one call per tick');
  t.equal(stats.renderTicks, 10);
  t.equal(stats.maxBatch, 5, 'all five sessions in it');
  t.equal(h.cache.size, 1, 'one identity shared by all');
});

t.test('idle frames render once per track frame, then come from the cache', async (t) => {
  const h = await harness(t);
  await Promise.all([0, 1, 2].map((i) => h.open(`s${i}`)));
  h.run(60); // the 12-frame track ping-pongs with a period of 22
  const stats = h.scheduler.stats();
  t.equal(stats.framesRendered, 12, 'each track frame rendered once');
  t.equal(stats.framesReused, 3 * 60 - 12);
  t.equal(h.cache.idleCacheBytes, 12 * SIZE.width * SIZE.height * 1.5);
  const a = h.frames('s0');
  const b = h.frames('s2');
  t.ok(
    a.every((f, i) => Buffer.from(f.i420).equals(Buffer.from((b[i] as EngineFrame).i420))),
    'sessions opened together show the same idle frames',
  );

  const tight = await harness(t, 0);
  await tight.open('x');
  tight.run(30);
  t.equal(tight.scheduler.stats().framesRendered, 30, 'no budget: every idle frame rendered');
});

t.test('the clock ticks from its start time and drops slots it missed', async (t) => {
  const h = await harness(t);
  await h.open('s');
  const t0 = performance.now();
  h.scheduler.start();
  await new Promise((resolve) => setTimeout(resolve, 600));
  const busyUntil = performance.now() + 250; // a long stall of the event loop
  while (performance.now() < busyUntil);
  await new Promise((resolve) => setTimeout(resolve, 400));
  h.scheduler.stop();
  const elapsed = performance.now() - t0;
  const stats = h.scheduler.stats();
  const slots = stats.ticks + stats.skippedTicks;
  t.ok(Math.abs(slots - elapsed / 40) <= 2, `${slots} slots in ${elapsed.toFixed(0)} ms`);
  t.ok(stats.skippedTicks >= 4, `${stats.skippedTicks} slots dropped during the 250-ms stall`);
  const frames = h.frames('s');
  t.equal(frames.length, stats.ticks);
  t.ok(
    frames.every((f, i) => i === 0 || f.frameIndex > (frames[i - 1] as EngineFrame).frameIndex),
    'frame indices increase (with gaps where slots were dropped)',
  );
});

t.test(
  'after dropped tick slots, live audio skips ahead to stay real time; pushed audio keeps every sample',
  async (t) => {
    const h = await harness(t);
    const live = await h.open('live');
    const pushed = await h.open('pushed');
    const input = syntheticSpeech(2 * 16000, 16000);
    live.pushAudio(input, 16000, undefined, true);
    pushed.pushAudio(input, 16000);
    for (let tick = 0; tick < 10; tick++) h.scheduler.runTick(tick);
    // Ticks 10..14 are dropped (an overrun): the next tick is 15.
    for (let tick = 15; tick < 20; tick++) h.scheduler.runTick(tick);
    const speech = (id: string) => h.frames(id).filter((f) => f.speaking);
    const audioAt = (id: string, frameIndex: number) => speech(id).find((f) => f.frameIndex === frameIndex)?.audio;
    t.equal(live.skippedFrames, 5, 'five live frames skipped');
    t.equal(pushed.skippedFrames, 0);
    const liveFirst = speech('live')[0]?.frameIndex as number;
    const pushedFirst = speech('pushed')[0]?.frameIndex as number;
    // Live: frame 15 plays the audio that belongs to frame 15 of the session's clock; pushed: the next unplayed frame.
    const expectLive = input.subarray((15 - liveFirst) * SAMPLES_PER_FRAME, (16 - liveFirst) * SAMPLES_PER_FRAME);
    const expectPushed = input.subarray((10 - pushedFirst) * SAMPLES_PER_FRAME, (11 - pushedFirst) * SAMPLES_PER_FRAME);
    t.same(Array.from(audioAt('live', 15) ?? []), Array.from(expectLive), 'live speech is where the clock is');
    t.same(Array.from(audioAt('pushed', 15) ?? []), Array.from(expectPushed), 'pushed speech resumes where it was');
  },
);
