// The fleet's shared view in Redis: which streaming nodes are up (their public URL, load, whether they take new
// sessions), which node holds each session, and which identities each node has warm. Every node refreshes its own
// entry every heartbeat (keys expire after three missed ones, so a dead node drops out by itself); any node can then
// answer "where should this client connect?" — to the node holding its session when it resumes, else to the least
// loaded node that takes sessions, preferring one that already has the identity loaded.
import { Redis } from 'ioredis';
import { Logger } from '../logger.js';

const logger = new Logger('NodeRegistry');

export interface NodeState {
  /** Sessions open on the node (those waiting for a resume included). */
  sessions: { id: string; identityId: string }[];
  accepting: boolean;
  maxSessions: number;
}

export interface NodeInfo {
  nodeId: string;
  publicUrl: string;
  sessions: number;
  maxSessions: number;
  accepting: boolean;
  /** Identities of its open sessions: warm in its engine workers. */
  identities: string[];
  updatedAt: number;
}

export interface Route {
  nodeId: string;
  url: string;
  reason: 'holds-session' | 'identity-warm' | 'least-loaded';
}

export interface NodeRegistryOptions {
  redisUrl: string;
  nodeId: string;
  publicUrl: string;
  heartbeatMs: number;
  /** Read at every heartbeat. */
  state: () => NodeState;
  /** Key prefix (tests and several fleets on one Redis). */
  prefix?: string;
}

export class NodeRegistry {
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> = Promise.resolve();
  /** Sessions the last heartbeat published: those gone since are unpublished at once, not left to expire. */
  private published = new Set<string>();
  private readonly prefix: string;

  private constructor(
    private readonly redis: Redis,
    private readonly o: NodeRegistryOptions,
  ) {
    this.prefix = o.prefix ?? 'splatcast:';
  }

  /** Connects (failing fast when Redis is unreachable) and publishes this node's first entry. */
  static async connect(o: NodeRegistryOptions): Promise<NodeRegistry> {
    const redis = new Redis(o.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3, connectTimeout: 5000 });
    redis.on('error', (error) => logger.debug('redis: %s', error.message));
    try {
      await redis.connect();
    } catch (error) {
      redis.disconnect();
      throw new Error(`cluster.redisUrl ${o.redisUrl}: cannot connect: ${(error as Error).message}`);
    }
    const registry = new NodeRegistry(redis, o);
    await registry.heartbeat();
    return registry;
  }

  get nodeId(): string {
    return this.o.nodeId;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.beating = this.heartbeat().catch((error) => logger.warn('heartbeat: %s', (error as Error).message));
    }, this.o.heartbeatMs);
    this.timer.unref();
  }

  private key(...parts: string[]): string {
    return this.prefix + parts.join(':');
  }

  private get ttlMs(): number {
    return 3 * this.o.heartbeatMs;
  }

  /** Publishes this node's entry and its sessions now (also called at once when it starts draining). */
  async heartbeat(): Promise<void> {
    const s = this.o.state();
    const info: NodeInfo = {
      nodeId: this.o.nodeId,
      publicUrl: this.o.publicUrl,
      sessions: s.sessions.length,
      maxSessions: s.maxSessions,
      accepting: s.accepting,
      identities: [...new Set(s.sessions.map((x) => x.identityId))],
      updatedAt: Date.now(),
    };
    const tx = this.redis.multi();
    tx.set(this.key('node', this.o.nodeId), JSON.stringify(info), 'PX', this.ttlMs);
    tx.sadd(this.key('nodes'), this.o.nodeId);
    for (const session of s.sessions) tx.set(this.key('session', session.id), this.o.nodeId, 'PX', this.ttlMs);
    const now = new Set(s.sessions.map((x) => x.id));
    const ended = [...this.published].filter((id) => !now.has(id)).map((id) => this.key('session', id));
    if (ended.length) tx.del(...ended);
    await tx.exec();
    this.published = now;
  }

  /** Live nodes (entries that expired are pruned from the set). */
  async nodes(): Promise<NodeInfo[]> {
    const ids = await this.redis.smembers(this.key('nodes'));
    if (ids.length === 0) return [];
    const raw = await this.redis.mget(ids.map((id) => this.key('node', id)));
    const gone = ids.filter((_, i) => raw[i] === null);
    if (gone.length) await this.redis.srem(this.key('nodes'), ...gone);
    return raw.flatMap((text) => (text ? [JSON.parse(text) as NodeInfo] : []));
  }

  /** The live node holding `sessionId`, if any. */
  async sessionNode(sessionId: string): Promise<NodeInfo | undefined> {
    const owner = await this.redis.get(this.key('session', sessionId));
    if (!owner) return undefined;
    const text = await this.redis.get(this.key('node', owner));
    return text ? (JSON.parse(text) as NodeInfo) : undefined;
  }

  /** Where a client should connect: its session's node when it resumes one that is still held, else the best node. */
  async route(request: { identityId: string; sessionId?: string }): Promise<Route | undefined> {
    if (request.sessionId) {
      const holder = await this.sessionNode(request.sessionId);
      if (holder) return { nodeId: holder.nodeId, url: holder.publicUrl, reason: 'holds-session' };
    }
    const open = (await this.nodes()).filter((n) => n.accepting && n.sessions < n.maxSessions);
    const load = (n: NodeInfo) => n.sessions / Math.max(1, n.maxSessions);
    const byLoad = (a: NodeInfo, b: NodeInfo) => load(a) - load(b) || a.nodeId.localeCompare(b.nodeId);
    const warm = open.filter((n) => n.identities.includes(request.identityId)).sort(byLoad)[0];
    if (warm) return { nodeId: warm.nodeId, url: warm.publicUrl, reason: 'identity-warm' };
    const least = open.sort(byLoad)[0];
    return least && { nodeId: least.nodeId, url: least.publicUrl, reason: 'least-loaded' };
  }

  /** Takes this node out (orderly shutdown): its entry and its sessions' entries. */
  async leave(): Promise<void> {
    clearInterval(this.timer);
    await this.beating;
    const sessions = this.o.state().sessions.map((s) => this.key('session', s.id));
    const tx = this.redis.multi().del(this.key('node', this.o.nodeId)).srem(this.key('nodes'), this.o.nodeId);
    if (sessions.length) tx.del(...sessions);
    await tx.exec();
  }

  close(): void {
    clearInterval(this.timer);
    this.redis.disconnect();
  }
}
