// The worker's clock: every tick asks each session for its next frame and renders all of them in one renderBatch
// call (one per model config, at most MAX_BATCH frames each). Tick k is due at start + k * period on the monotonic
// clock, so timer jitter never accumulates; a tick that starts a whole period late drops the slots it missed
// (sessions keep their audio: a dropped slot only delays speech) and counts them.
import { MAX_BATCH, type Renderer } from '@splatcast/engine';
import type { IdentityCache } from './identity-cache.js';
import { type EngineFrame, epochMs, type SessionEvent, type WorkerStats } from './protocol.js';
import type { FramePlan, WorkerSession } from './worker-session.js';

export interface FrameSink {
  frame(frame: EngineFrame): void;
  event(event: SessionEvent): void;
}

export type SchedulerStats = Omit<
  WorkerStats,
  'sessions' | 'identities' | 'preloadedIdentities' | 'underruns' | 'idleCacheBytes'
>;

export class FrameScheduler {
  readonly periodMs: number;
  private startedAt = 0;
  private nextTick = 0;
  private timer: NodeJS.Timeout | undefined;
  private tickMsTotal = 0;
  private readonly counters: SchedulerStats = {
    ticks: 0,
    lateTicks: 0,
    skippedTicks: 0,
    renderCalls: 0,
    renderTicks: 0,
    maxBatch: 0,
    framesRendered: 0,
    framesReused: 0,
    tickMsMean: 0,
    tickMsMax: 0,
  };

  constructor(
    private readonly renderer: Renderer,
    private readonly sessions: ReadonlyMap<string, WorkerSession>,
    private readonly cache: IdentityCache,
    private readonly sink: FrameSink,
    fps: number,
    /** A tick threw (a device fault, a bug): the clock has stopped. */
    private readonly onError: (error: unknown) => void,
  ) {
    this.periodMs = 1000 / fps;
  }

  /** Index of the next tick: a session opened now gets its frame 0 there. */
  get tick(): number {
    return this.nextTick;
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    if (this.timer) return;
    this.startedAt = performance.now() - this.nextTick * this.periodMs;
    this.schedule();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  stats(): SchedulerStats {
    return { ...this.counters, tickMsMean: this.counters.ticks ? this.tickMsTotal / this.counters.ticks : 0 };
  }

  /** Produces every session's frame of tick `tick` (the clock calls this; benchmarks may too). */
  runTick(tick: number): void {
    const t0 = performance.now();
    const tickMs = epochMs();
    const plans: FramePlan[] = [];
    for (const session of this.sessions.values()) if (session.startTick <= tick) plans.push(session.plan(tick));
    const featuresMs = epochMs();
    const images = this.render(plans);
    const renderedMs = epochMs();
    plans.forEach((plan, i) => {
      for (const event of plan.before) this.sink.event(event);
      this.sink.frame({
        sessionId: plan.session.id,
        frameIndex: plan.frameIndex,
        ptsMs: plan.ptsMs,
        width: this.renderer.width,
        height: this.renderer.height,
        i420: images[i] as Uint8Array,
        audio: plan.audio,
        speaking: plan.speaking,
        timing: { audioArrivalMs: plan.audioArrivalMs, tickMs, featuresMs, renderedMs },
      });
      for (const event of plan.after) this.sink.event(event);
    });
    const ms = performance.now() - t0;
    this.counters.ticks++;
    this.tickMsTotal += ms;
    this.counters.tickMsMax = Math.max(this.counters.tickMsMax, ms);
  }

  /** One I420 frame per plan: idle frames from the cache (or shared within the tick), the rest rendered batched. */
  private render(plans: FramePlan[]): Uint8Array[] {
    const images: Uint8Array[] = new Array(plans.length);
    const groups = new Map<string, number[]>();
    const firstIdle = new Map<string, number>();
    const aliases: [number, number][] = [];
    plans.forEach((plan, i) => {
      const entry = plan.session.entry;
      if (plan.idleTrackFrame !== undefined) {
        const cached = this.cache.idleFrame(entry, plan.idleTrackFrame);
        if (cached) {
          images[i] = cached;
          this.counters.framesReused++;
          return;
        }
        const key = `${entry.id}\0${plan.idleTrackFrame}`;
        const first = firstIdle.get(key);
        if (first !== undefined) {
          aliases.push([i, first]);
          this.counters.framesReused++;
          return;
        }
        firstIdle.set(key, i);
      }
      const model = entry.identity.modelKey;
      const group = groups.get(model);
      if (group) group.push(i);
      else groups.set(model, [i]);
    });
    if (groups.size > 0) this.counters.renderTicks++;
    for (const group of groups.values())
      for (let at = 0; at < group.length; at += MAX_BATCH) {
        const chunk = group.slice(at, at + MAX_BATCH);
        const batch = this.renderer.renderBatch(chunk.map((i) => (plans[i] as FramePlan).request));
        this.counters.renderCalls++;
        this.counters.maxBatch = Math.max(this.counters.maxBatch, chunk.length);
        this.counters.framesRendered += chunk.length;
        chunk.forEach((i, k) => {
          // The renderer reuses its output buffer: every frame leaves as its own copy.
          const image = (batch.i420[k] as Uint8Array).slice();
          images[i] = image;
          const plan = plans[i] as FramePlan;
          if (plan.idleTrackFrame !== undefined)
            this.cache.storeIdleFrame(plan.session.entry, plan.idleTrackFrame, image);
        });
      }
    for (const [i, first] of aliases) images[i] = images[first] as Uint8Array;
    return images;
  }

  private schedule(): void {
    const due = this.startedAt + this.nextTick * this.periodMs;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, due - performance.now()));
  }

  private onTimer(): void {
    let lateness = performance.now() - (this.startedAt + this.nextTick * this.periodMs);
    if (lateness >= this.periodMs) {
      const missed = Math.floor(lateness / this.periodMs);
      this.nextTick += missed;
      this.counters.skippedTicks += missed;
      lateness -= missed * this.periodMs;
    }
    if (lateness > this.periodMs / 4) this.counters.lateTicks++;
    try {
      this.runTick(this.nextTick);
    } catch (error) {
      this.stop();
      this.onError(error);
      return;
    }
    this.nextTick++;
    this.schedule();
  }
}
