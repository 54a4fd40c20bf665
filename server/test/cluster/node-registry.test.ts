// The Redis session/identity registry against a real redis-server: nodes publish themselves, any node routes a
// resuming client to the node holding its session and a new one to the best node; draining, full and dead nodes
// are not chosen; and the streaming server's /v1/route answers from it.
import t from 'tap';
import { type NodeRegistry, type NodeState, NodeRegistry as Registry } from '../../src/cluster/node-registry.js';
import { until } from '../helpers/fixture.js';
import { startServer, token } from '../helpers/streaming.js';
import { redisAvailable, startRedis } from './redis-server.js';

t.test('the registry', { skip: redisAvailable === true ? false : redisAvailable }, async (t) => {
  const redisUrl = await startRedis(t);
  const state: Record<string, NodeState> = {
    a: { sessions: [{ id: 's1', identityId: 'may' }], accepting: true, maxSessions: 4 },
    b: { sessions: [], accepting: true, maxSessions: 4 },
  };
  const node = async (id: string, heartbeatMs = 1000) => {
    const r = await Registry.connect({
      redisUrl,
      nodeId: id,
      publicUrl: `wss://${id}.example.com/v1/stream`,
      heartbeatMs,
      state: () => state[id] as NodeState,
      prefix: 'test:',
    });
    t.teardown(() => r.close());
    return r;
  };
  const a = await node('a');
  const b = await node('b');

  t.test('resumes go to the node holding the session, from any node', async (t) => {
    t.same(await b.route({ identityId: 'may', sessionId: 's1' }), {
      nodeId: 'a',
      url: 'wss://a.example.com/v1/stream',
      reason: 'holds-session',
    });
    t.same((await a.nodes()).map((n) => n.nodeId).sort(), ['a', 'b']);
  });

  t.test('new sessions: a node with the identity warm, else the least loaded', async (t) => {
    t.match(await b.route({ identityId: 'may' }), { nodeId: 'a', reason: 'identity-warm' });
    t.match(await b.route({ identityId: 'joe' }), { nodeId: 'b', reason: 'least-loaded' });
    t.match(await a.route({ identityId: 'may', sessionId: 'unknown' }), { reason: 'identity-warm' });
  });

  t.test('draining and full nodes are passed over; ended sessions are unpublished at once', async (t) => {
    (state.a as NodeState).accepting = false;
    await a.heartbeat();
    t.match(await b.route({ identityId: 'may' }), { nodeId: 'b', reason: 'least-loaded' }, 'a drains');
    t.match(
      await b.route({ identityId: 'may', sessionId: 's1' }),
      { nodeId: 'a' },
      'but its sessions still resume there',
    );
    state.b = {
      sessions: [1, 2, 3, 4].map((i) => ({ id: `b${i}`, identityId: 'joe' })),
      accepting: true,
      maxSessions: 4,
    };
    await b.heartbeat();
    t.equal(await a.route({ identityId: 'joe' }), undefined, 'nobody has room');
    state.b = { sessions: [], accepting: true, maxSessions: 4 };
    await b.heartbeat();
    t.equal(await a.sessionNode('b1'), undefined, 'b1 ended: gone from the registry');
    (state.a as NodeState).accepting = true;
    await a.heartbeat();
  });

  t.test('a node that stops beating drops out; leave() removes it at once', async (t) => {
    state.c = { sessions: [{ id: 'c1', identityId: 'zed' }], accepting: true, maxSessions: 4 };
    await node('c', 200);
    t.match(await a.route({ identityId: 'zed' }), { nodeId: 'c' });
    // c never started its timer: its entry expires after 3 × 200 ms.
    await until(async () => !(await a.nodes()).some((n) => n.nodeId === 'c'), 3000, 'c to expire');
    t.equal(await a.sessionNode('c1'), undefined);
    await b.leave();
    t.same(
      (await a.nodes()).map((n) => n.nodeId),
      ['a'],
    );
  });

  t.test('an unreachable Redis is a clear error at start', async (t) => {
    await t.rejects(
      Registry.connect({
        redisUrl: 'redis://127.0.0.1:1',
        nodeId: 'x',
        publicUrl: 'ws://x/v1/stream',
        heartbeatMs: 1000,
        state: () => ({ sessions: [], accepting: true, maxSessions: 1 }),
      }),
      /cluster\.redisUrl redis:\/\/127\.0\.0\.1:1: cannot connect/,
    );
  });
});

t.test(
  '/v1/route on streaming servers sharing a registry',
  { skip: redisAvailable === true ? false : redisAvailable },
  async (t) => {
    const redisUrl = await startRedis(t);
    const cluster = (nodeId: string) => ({
      cluster: { redisUrl, heartbeatMs: 300, publicUrl: `wss://${nodeId}.example.com/v1/stream` },
    });
    const one = await startServer(t, cluster('one'));
    one.config.admin.nodeId = 'one';
    const lone = await startServer(t);
    const ask = async (server: { port: number }, query: string, auth?: string) => {
      const res = await fetch(`http://127.0.0.1:${server.port}/v1/route${query}`, {
        headers: auth === undefined ? {} : { authorization: `Bearer ${auth}` },
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const tok = await token();
    t.match(await ask(lone, '', tok), { status: 200, body: { reason: 'single-node', url: lone.streamUrl } });
    t.match(await ask(one, ''), { status: 401 }, 'no token');
    t.match(await ask(one, '', 'nope'), { status: 401, body: { error: /not valid/ } });
    t.match(await ask(one, '?session=../x', tok), { status: 400 });
    const routed = await ask(one, '', tok);
    t.equal(routed.status, 200);
    t.match(routed.body, { url: /^wss:\/\/one\.example\.com/, reason: 'least-loaded' });
    await one.drain(50);
    t.match(await ask(one, '', tok), { status: 503 }, 'the only node is draining');
    const registry = one.registry as NodeRegistry;
    t.ok(registry, 'the server joined the registry');
  },
);
