import t from 'tap';
import { type CapacityMeasurement, findCapacity, judge } from '../src/capacity-search.js';

const thresholds = { maxP95LatencyMs: 200, minFps: 24 };

/** A server that holds `capacity` sessions: beyond it latency climbs and FPS falls. */
function server(capacity: number) {
  const asked: number[] = [];
  const measure = async (n: number): Promise<CapacityMeasurement> => {
    asked.push(n);
    const over = Math.max(0, n - capacity);
    return { sessions: n, p95LatencyMs: 120 + over * 40, fpsP5: 25 - over * 0.6, failedSessions: 0 };
  };
  return { measure, asked };
}

t.test('finds the knee by doubling, then bisecting', async (t) => {
  const s = server(48);
  const r = await findCapacity({ start: 1, max: 256, thresholds, measure: s.measure });
  t.equal(r.knee, 49, '49: p95 160 ms and 24.4 fps still pass; 50 breaks the latency limit');
  t.equal(r.firstFailure, 50);
  t.notOk(r.limitedByMax);
  t.same(s.asked.slice(0, 8), [1, 2, 4, 8, 16, 32, 64, 48]);
  t.ok(
    r.steps.every((x) => x.pass === x.sessions <= 49),
    'every step judged',
  );
});

t.test('a coarser resolution stops earlier', async (t) => {
  const s = server(48);
  const r = await findCapacity({ start: 8, max: 256, resolution: 8, thresholds, measure: s.measure });
  t.ok(r.knee >= 40 && r.knee <= 49, `knee ${r.knee} within 8 of the truth`);
  t.ok(s.asked.length <= 7, `${s.asked.length} steps`);
});

t.test('the first step failing gives no knee; max passing says so', async (t) => {
  const overloaded = async (n: number) => ({ sessions: n, p95LatencyMs: 900, fpsP5: 12, failedSessions: 0 });
  const none = await findCapacity({ start: 1, max: 64, thresholds, measure: overloaded });
  t.equal(none.knee, 0);
  t.equal(none.firstFailure, 1);
  const all = await findCapacity({ start: 1, max: 20, thresholds, measure: server(100).measure });
  t.equal(all.knee, 20);
  t.ok(all.limitedByMax, 'the capacity may be higher than the search went');
  t.same(
    all.steps.map((s) => s.sessions),
    [1, 2, 4, 8, 16, 20],
  );
});

t.test('failed sessions, NaN latency and low FPS each fail a step, with the reason', async (t) => {
  t.match(judge({ sessions: 4, p95LatencyMs: 100, fpsP5: 25, failedSessions: 1 }, thresholds), {
    pass: false,
    reasons: ['1 sessions failed'],
  });
  t.match(judge({ sessions: 4, p95LatencyMs: Number.NaN, fpsP5: 25, failedSessions: 0 }, thresholds), {
    pass: false,
    reasons: [/p95 latency NaN/],
  });
  t.match(judge({ sessions: 4, p95LatencyMs: 100, fpsP5: 20, failedSessions: 0 }, thresholds), {
    pass: false,
    reasons: ['p5 fps 20.0 < 24'],
  });
  t.equal(judge({ sessions: 4, p95LatencyMs: 200, fpsP5: 24, failedSessions: 0 }, thresholds).pass, true);
});

t.test('bad search settings are refused', async (t) => {
  const { measure } = server(10);
  await t.rejects(findCapacity({ start: 0, max: 8, thresholds, measure }), RangeError);
  await t.rejects(findCapacity({ start: 8, max: 4, thresholds, measure }), RangeError);
  await t.rejects(findCapacity({ start: 1, max: 4, growth: 1, thresholds, measure }), RangeError);
});
