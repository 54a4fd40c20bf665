// An engine worker process driven from the parent, on the CPU engine: real time, real IPC, real crashes.
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chooseDevice } from '@splatcast/engine';
import t from 'tap';
import type { EngineSession } from '../../src/engine/engine-session.js';
import { EngineWorker, type EngineWorkerOptions } from '../../src/engine/engine-worker.js';
import { DEFAULT_WORKER_CONFIG, type EngineFrame } from '../../src/engine/protocol.js';
import type { EngineError } from '../../src/errors.js';
import { alive, fixtureIdentities, SIZE, syntheticSpeech, type Teardown, until } from '../helpers/fixture.js';

const [dirA, dirB] = (await fixtureIdentities(t, [1, 2])) as [string, string];

async function start(t: Teardown, options: EngineWorkerOptions = {}): Promise<EngineWorker> {
  const worker = await EngineWorker.create({ device: 'cpu', ...SIZE, ...options });
  t.teardown(() => {
    worker.close();
    return worker.exited;
  });
  return worker;
}

function record(session: EngineSession): EngineFrame[] {
  const frames: EngineFrame[] = [];
  session.on('frame', (frame) => frames.push(frame));
  return frames;
}

t.test('a session gets a frame every 40 ms with 640 samples of audio', async (t) => {
  const worker = await start(t);
  t.equal(worker.device.device, 'cpu');
  const session = await worker.openSession({ identityId: 'a', identityDir: dirA });
  t.equal(session.lookaheadMs, 72.5);
  const frames = record(session);
  await until(() => frames.length > 0, 5000, 'the first frame');
  const t0 = performance.now();
  const first = frames.length;
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const rate = ((frames.length - first) * 1000) / (performance.now() - t0);
  t.comment(`measured ${rate.toFixed(1)} frames/s`);
  t.ok(rate > 20 && rate < 27, `about 25 frames/s (${rate.toFixed(1)})`);
  t.ok(
    frames.every(
      (f) =>
        f.ptsMs === f.frameIndex * 40 &&
        f.audio.length === 640 &&
        f.i420.length === SIZE.width * SIZE.height * 1.5 &&
        f.width === SIZE.width,
    ),
    'pts, audio and image sizes',
  );
  t.ok(frames.at(-1)?.i420 instanceof Uint8Array, 'typed arrays cross the process boundary as typed arrays');
});

t.test('30 s of audio pushed at once come back frame by frame, sample exact', async (t) => {
  // The clock runs ten times faster than real time so that 750 frames take seconds.
  const worker = await start(t, { fps: 250 });
  const session = await worker.openSession({ identityId: 'a', identityDir: dirA });
  const frames = record(session);
  const finished = new Promise((resolve) => session.once('playbackFinished', resolve));
  const input = syntheticSpeech(30 * 16000, 16000);
  for (let at = 0; at < input.length; at += 4000) await session.pushAudio(input.subarray(at, at + 4000), 16000);
  await session.endSegment();
  t.match(await finished, { positionMs: 30000, interrupted: false });
  const speech = frames.filter((f) => f.speaking);
  t.equal(speech.length, 750);
  const audio = new Float32Array(speech.length * 640);
  speech.forEach((f, i) => {
    audio.set(f.audio, i * 640);
  });
  t.equal(
    audio.findIndex((v, i) => v !== input[i]),
    -1,
    'the frames concatenate to the input, no sample lost, added or moved',
  );
  const stats = await worker.stats();
  t.comment(`fast clock: ${stats.ticks} ticks, ${stats.skippedTicks} slots dropped, ${stats.underruns} underruns`);
});

t.test('segment end plays out the rest, with playback events around it', async (t) => {
  const worker = await start(t);
  const session = await worker.openSession({ identityId: 'a', identityDir: dirA });
  const story: string[] = [];
  session.on('frame', (f) => story.push(f.speaking ? 'S' : '.'));
  session.on('playbackStarted', () => story.push('started'));
  const finished = new Promise((resolve) =>
    session.on('playbackFinished', (e) => {
      story.push('finished');
      resolve(e);
    }),
  );
  await session.pushAudio(syntheticSpeech(12000, 16000), 16000);
  await session.endSegment();
  t.match(await finished, { positionMs: 750, interrupted: false });
  const text = story.join(' ');
  // Idle frames may come first, or none when the speech arrives before the session's first tick (a loaded machine).
  t.match(text, /(^| )started( S){19} finished$/, '19 speech frames between the events (750 ms, the last one padded)');
});

t.test('interrupt: silence and an idle mouth within 100 ms', async (t) => {
  const worker = await start(t);
  const session = await worker.openSession({ identityId: 'a', identityDir: dirA });
  const frames = record(session);
  const latencies: number[] = [];
  for (let trial = 0; trial < 5; trial++) {
    await session.pushAudio(syntheticSpeech(5 * 16000, 16000, trial), 16000);
    await until(() => frames.at(-1)?.speaking === true, 3000, 'speech');
    const finished = new Promise((resolve) => session.once('playbackFinished', resolve));
    const seen = frames.length;
    const t0 = performance.now();
    const result = await session.interrupt();
    await until(() => frames.slice(seen).some((f) => !f.speaking), 1000, 'an idle frame');
    latencies.push(performance.now() - t0);
    t.equal(result.interrupted, true);
    t.ok(result.positionMs > 0, `stopped at ${result.positionMs} ms`);
    t.match(await finished, { positionMs: result.positionMs, interrupted: true });
    const after = frames.slice(seen);
    const firstIdle = after.findIndex((f) => !f.speaking);
    t.ok(
      after.slice(firstIdle).every((f) => !f.speaking && f.audio.every((v) => v === 0)),
      'only silent idle frames after it',
    );
  }
  latencies.sort((a, b) => a - b);
  t.comment(`interrupt to first idle frame: ${latencies.map((ms) => ms.toFixed(1)).join(', ')} ms`);
  t.ok((latencies[2] as number) <= 100, `median ${latencies[2]?.toFixed(1)} ms <= 100 ms`);
  t.ok((latencies[4] as number) <= 150, `worst ${latencies[4]?.toFixed(1)} ms (loose bound for a busy CI machine)`);
});

t.test("all sessions' frames of a tick render in one batch", async (t) => {
  const worker = await start(t);
  const sessions = await Promise.all(
    [0, 1, 2, 3, 4, 5].map((i) =>
      worker.openSession({ identityId: i % 2 ? 'b' : 'a', identityDir: i % 2 ? dirB : dirA }),
    ),
  );
  await Promise.all(sessions.map((s, i) => s.pushAudio(syntheticSpeech(3 * 16000, 16000, i), 16000)));
  const before = await worker.stats();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const stats = await worker.stats();
  t.equal(stats.sessions, 6);
  t.equal(stats.identities, 2, 'two identities, each loaded once');
  t.equal(stats.maxBatch, 6, 'six frames in a batch');
  t.equal(stats.renderCalls - before.renderCalls, stats.renderTicks - before.renderTicks, 'one renderBatch per tick');
  t.comment(`6 sessions: tick ${stats.tickMsMean.toFixed(1)} ms mean, ${stats.tickMsMax.toFixed(1)} ms max`);
});

t.test('malformed requests get error replies, and the worker lives on', async (t) => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const entry = path.resolve(here, '../../src/engine/worker-main.ts');
  const config = { ...DEFAULT_WORKER_CONFIG, device: 'cpu', ...SIZE };
  const child = fork(entry, [JSON.stringify(config)], { serialization: 'advanced' });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const inbox: Record<string, unknown>[] = [];
  child.on('message', (m) => inbox.push(m as Record<string, unknown>));
  await until(() => inbox.some((m) => m.kind === 'ready'), 10000, 'ready');
  const reply = async (id: number) => {
    await until(() => inbox.some((m) => m.id === id), 10000, `reply ${id}`);
    return inbox.find((m) => m.id === id);
  };
  child.send('not an object');
  child.send({ kind: 'request', id: -3, method: 'stats' });
  await until(() => inbox.filter((m) => m.kind === 'protocolError').length === 2, 5000, 'protocol errors');
  const requests: [unknown, RegExp][] = [
    [{ method: 'nope' }, /unknown method "nope"/],
    [{ method: 'toString' }, /unknown method "toString"/],
    [{ method: 'openSession', data: { sessionId: 5 } }, /sessionId/],
    [{ method: 'openSession', data: { sessionId: 'x', identityId: 'a', identityDir: '/nonexistent' } }, /no identity/],
    [{ method: 'openSession', data: { sessionId: 'x', identityId: 'a', identityDir: dirA, extra: 1 } }, /extra/],
    [{ method: 'pushAudio', data: { sessionId: 'x', sampleRate: 16000, pcm: [0.1, 0.2] } }, /Float32Array/],
    [{ method: 'pushAudio', data: { sessionId: 'x', sampleRate: 44100, pcm: new Float32Array(4) } }, /sampleRate/],
    [
      { method: 'pushAudio', data: { sessionId: 'x', sampleRate: 16000, pcm: new Float32Array(61 * 16000) } },
      /at most 60 s/,
    ],
    [{ method: 'pushAudio', data: { sessionId: 'x', sampleRate: 16000, pcm: new Float32Array(4) } }, /no session "x"/],
    [{ method: 'interrupt', data: null }, /sessionId/],
    [{ method: 'stats', data: { please: true } }, /please/],
  ];
  for (const [i, [request, error]] of requests.entries()) {
    child.send({ kind: 'request', id: i, ...(request as object) });
    const answer = await reply(i);
    t.match(answer, { kind: 'response', ok: false, error: { message: error } }, String(error));
  }
  t.match((await reply(2)) as object, { error: { code: 'invalid-request' } });
  t.match((await reply(3)) as object, { error: { code: 'identity' } });
  t.match((await reply(8)) as object, { error: { code: 'invalid-state' } });
  child.send({ kind: 'request', id: 100, method: 'stats' });
  t.match(await reply(100), { ok: true, data: { sessions: 0 } }, 'still answering');
  child.send({ kind: 'close' });
  t.same(await exited, { code: 0, signal: null }, 'closes cleanly when asked');
});

t.test('the public API refuses bad calls with typed errors', async (t) => {
  await t.rejects(EngineWorker.create({ width: 65 }), { code: 'invalid-request', message: /width: must be even/ });
  const worker = await start(t, { maxSessions: 1 });
  const session = await worker.openSession({ identityId: 'a', identityDir: dirA });
  await t.rejects(worker.openSession({ identityId: 'a', identityDir: dirA }), { code: 'session-limit' });
  await t.rejects(worker.openSession({ identityId: 'a', identityDir: dirA, sessionId: session.id }), {
    code: 'invalid-state',
  });
  await t.rejects(session.pushAudio(new Float32Array(10), 44100 as 16000), { code: 'invalid-request' });
  await t.rejects(
    start(t, { maxLookaheadMs: 50 }).then((w) => w.openSession({ identityId: 'a', identityDir: dirA })),
    { code: 'unsupported', message: /needs 72.5 ms of audio lookahead/ },
  );
  if (chooseDevice('auto').device === 'cpu')
    await t.rejects(EngineWorker.create({ device: 'cuda', ...SIZE }), { message: /CUDA is not usable/ });
});

t.test('a request to a hung worker times out instead of hanging', async (t) => {
  const worker = await start(t, { requestTimeoutMs: 300 });
  const session = await worker.openSession({ identityId: 'a', identityDir: dirA });
  process.kill(worker.pid, 'SIGSTOP');
  t.teardown(() => process.kill(worker.pid, 'SIGCONT'));
  const t0 = performance.now();
  await t.rejects(session.interrupt(), { code: 'timeout', message: /did not answer in 300 ms/ });
  t.ok(performance.now() - t0 < 1000);
  process.kill(worker.pid, 'SIGCONT');
  t.same(await session.interrupt(), { positionMs: 0, interrupted: false }, 'answers again once resumed');
});

t.test('a crashed worker: died, sessions closed, requests rejected, the parent unharmed', async (t) => {
  const worker = await start(t);
  const session = await worker.openSession({ identityId: 'a', identityDir: dirA });
  const died = new Promise((resolve) => worker.once('died', resolve));
  const sessionClosed = new Promise<void>((resolve) => session.once('workerclose', resolve));
  const inFlight = session.pushAudio(syntheticSpeech(16000, 16000), 16000);
  process.kill(worker.pid, 'SIGKILL');
  t.same(await died, { code: null, signal: 'SIGKILL' });
  await sessionClosed;
  t.ok(worker.died && worker.closed && session.closed);
  await inFlight.then(
    () => t.pass('the push was answered before the kill'),
    (error: EngineError) => t.equal(error.code, 'worker-died'),
  );
  await t.rejects(session.pushAudio(new Float32Array(10), 16000), { code: 'invalid-state' });
  await t.rejects(worker.openSession({ identityId: 'a', identityDir: dirA }), { code: 'invalid-state' });
});

t.test('close cascades to the sessions and the process exits', async (t) => {
  const worker = await EngineWorker.create({ device: 'cpu', ...SIZE });
  const sessions = await Promise.all(
    [dirA, dirB].map((d, i) => worker.openSession({ identityId: `${i}`, identityDir: d })),
  );
  let workerCloses = 0;
  let observed = 0;
  for (const s of sessions) {
    s.on('workerclose', () => workerCloses++);
    s.observer.on('close', () => observed++);
  }
  let workerObserved = 0;
  worker.observer.on('close', () => workerObserved++);
  worker.on('died', () => t.fail('a closed worker does not "die"'));
  worker.close();
  worker.close();
  t.equal(workerCloses, 2, 'each session heard its worker close');
  t.equal(observed, 2);
  t.equal(workerObserved, 1, 'closed once');
  t.ok(sessions.every((s) => s.closed));
  t.equal(worker.sessionCount, 0);
  t.same(await worker.exited, { code: 0, signal: null }, 'the process exits by itself');
  t.notOk(alive(worker.pid), 'no process left');
  await t.rejects(worker.stats(), { code: 'invalid-state' });
  sessions[0]?.close(); // idempotent after the cascade
});

t.test('a session closed by its owner leaves the worker', async (t) => {
  const worker = await start(t);
  const a = await worker.openSession({ identityId: 'a', identityDir: dirA });
  const b = await worker.openSession({ identityId: 'a', identityDir: dirA });
  a.close();
  a.close();
  t.equal(worker.sessionCount, 1);
  await until(() => true, 0, '');
  const stats = await worker.stats();
  t.equal(stats.sessions, 1);
  t.equal(stats.identities, 1, 'the identity stays while a session holds it');
  b.close();
  t.equal((await worker.stats()).identities, 0, 'and is freed with its last session');
  await t.rejects(a.interrupt(), { code: 'invalid-state', message: /is closed/ });
});
