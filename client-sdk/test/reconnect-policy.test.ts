// The default reconnect schedule: the documented delays, then 7-8 s with jitter, and when it gives up.
import t from 'tap';
import { DefaultReconnectPolicy } from '../src/reconnect-policy.js';

t.test('0, 0.3, 1.2, 2.7, 4.8 s, then every 7 s plus up to 1 s of jitter', async (t) => {
  const policy = new DefaultReconnectPolicy();
  const delays = [0, 1, 2, 3, 4].map((attempt) => policy.nextRetryDelayMs({ attempt, elapsedMs: 0 }));
  t.same(delays, [0, 300, 1200, 2700, 4800]);
  const later = Array.from({ length: 200 }, (_, i) => policy.nextRetryDelayMs({ attempt: 5 + (i % 5), elapsedMs: 0 }));
  t.ok(
    later.every((d) => d !== null && d >= 7000 && d < 8000),
    'within 7-8 s',
  );
  t.ok(new Set(later).size > 1, 'jittered (clients do not come back in lockstep)');
});

t.test('gives up after 10 attempts or 60 s, whichever comes first', async (t) => {
  const policy = new DefaultReconnectPolicy();
  t.not(policy.nextRetryDelayMs({ attempt: 9, elapsedMs: 59_999 }), null);
  t.equal(policy.nextRetryDelayMs({ attempt: 10, elapsedMs: 0 }), null);
  t.equal(policy.nextRetryDelayMs({ attempt: 1, elapsedMs: 60_000 }), null);
});

t.test('custom delays and limits', async (t) => {
  const policy = new DefaultReconnectPolicy([100, 200], 3, 1000);
  t.equal(policy.nextRetryDelayMs({ attempt: 0, elapsedMs: 0 }), 100);
  t.equal(policy.nextRetryDelayMs({ attempt: 1, elapsedMs: 0 }), 200);
  const third = policy.nextRetryDelayMs({ attempt: 2, elapsedMs: 0 }) as number;
  t.ok(third >= 7000 && third < 8000, 'past the list: the 7 s step');
  t.equal(policy.nextRetryDelayMs({ attempt: 3, elapsedMs: 0 }), null);
  t.equal(policy.nextRetryDelayMs({ attempt: 0, elapsedMs: 1000 }), null);
});
