// Numbers from what the simulated clients recorded: per session (connect, latency, FPS, jitter, freezes, loss,
// bitrate) and for the run as a whole (their distributions, and latency and FPS over time for the plot).
import { type FrameIntervalStats, frameIntervalStats } from './frame-intervals.js';
import { matchOnsets } from './onset-detector.js';
import { percentile, type Summary, summarize } from './percentiles.js';
import type { RtpCounters, SessionRecord } from './simulated-client.js';

export interface SessionSummary {
  index: number;
  sessionId: string;
  ok: boolean;
  error: string | undefined;
  connectMs: number | undefined;
  firstFrameMs: number | undefined;
  frames: FrameIntervalStats;
  /** Speech onset sent to the same onset heard in the avatar's speech track, client clock, ms. */
  latencyMs: Summary;
  latencySamples: { atMs: number; ms: number }[];
  onsetsMissed: number;
  onsetsUnmatched: number;
  /** The server's own audio-arrival-to-RTP-send p95 (its Stats messages), for comparison. */
  serverLatencyP95Ms: number | undefined;
  /** Lost / (lost + received) RTP packets over the session. */
  videoLoss: number | undefined;
  audioLoss: number | undefined;
  videoKbps: number | undefined;
  /** Mean time a frame / audio sample spent in the receiver's jitter buffer, ms. */
  videoJitterBufferMs: number | undefined;
  audioJitterBufferMs: number | undefined;
  reconnects: number;
}

function delta(a: RtpCounters | undefined, b: RtpCounters | undefined) {
  if (!a || !b) return undefined;
  return {
    received: b.packetsReceived - a.packetsReceived,
    lost: b.packetsLost - a.packetsLost,
    bytes: b.bytesReceived - a.bytesReceived,
    buffered: b.jitterBufferDelay - a.jitterBufferDelay,
    emitted: b.jitterBufferEmittedCount - a.jitterBufferEmittedCount,
  };
}

/**
 * `fromMs`: only frames and latency samples from then on count (the steady state once every session is up; the
 * ramp would flatter the first sessions).
 */
export function summarizeSession(r: SessionRecord, maxLatencyMs: number, fromMs = 0): SessionSummary {
  const match = matchOnsets(r.sentOnsetsMs, r.heardOnsetsMs, maxLatencyMs, r.endedAtMs);
  const pairs = match.pairs.filter((p) => p.heardMs >= fromMs);
  // Between the first and last polls of the same stream (a reconnect that negotiated media again starts a new one).
  const last = r.rtp.at(-1);
  const firstOf = (kind: 'video' | 'audio') => r.rtp.find((p) => p[kind] && p[kind]?.ssrc === last?.[kind]?.ssrc);
  const firstVideo = firstOf('video');
  const span = firstVideo && last ? (last.atMs - firstVideo.atMs) / 1000 : 0;
  const video = delta(firstVideo?.video, last?.video);
  const audio = delta(firstOf('audio')?.audio, last?.audio);
  const loss = (d: ReturnType<typeof delta>) =>
    d && d.received + d.lost > 0 ? Math.max(0, d.lost) / (d.received + Math.max(0, d.lost)) : undefined;
  const buffer = (d: ReturnType<typeof delta>) => (d && d.emitted > 0 ? (1000 * d.buffered) / d.emitted : undefined);
  const server = r.serverStats.filter((s) => s.latencyMsP95 > 0).map((s) => s.latencyMsP95);
  return {
    index: r.index,
    sessionId: r.sessionId,
    ok: r.error === undefined,
    error: r.error,
    connectMs: r.connectMs,
    firstFrameMs: r.firstFrameMs,
    frames: frameIntervalStats(
      r.frameArrivalsMs.filter((t) => t >= fromMs),
      r.fps,
    ),
    latencyMs: summarize(pairs.map((p) => p.heardMs - p.sentMs)),
    latencySamples: pairs.map((p) => ({ atMs: p.heardMs, ms: p.heardMs - p.sentMs })),
    onsetsMissed: match.missed,
    onsetsUnmatched: match.unmatched,
    serverLatencyP95Ms: server.length ? summarize(server).p50 : undefined,
    videoLoss: loss(video),
    audioLoss: loss(audio),
    videoKbps: video && span > 0 ? (video.bytes * 8) / 1000 / span : undefined,
    videoJitterBufferMs: buffer(video),
    audioJitterBufferMs: buffer(audio),
    reconnects: r.reconnects,
  };
}

export interface TimePoint {
  /** Start of the bucket, s since the run started. */
  atS: number;
  sessions: number;
  /** Mean received FPS of the sessions receiving in this bucket. */
  fps: number | undefined;
  latencyP50Ms: number | undefined;
  latencyP95Ms: number | undefined;
}

/** Latency and FPS in buckets of `bucketMs` over the whole run, ramp included (for the plot). */
export function timeSeries(records: readonly SessionRecord[], maxLatencyMs: number, bucketMs: number): TimePoint[] {
  const end = Math.max(0, ...records.map((r) => r.endedAtMs));
  const samples = records.flatMap((r) => matchOnsets(r.sentOnsetsMs, r.heardOnsetsMs, maxLatencyMs, r.endedAtMs).pairs);
  const points: TimePoint[] = [];
  for (let at = 0; at < end; at += bucketMs) {
    const to = at + bucketMs;
    let frames = 0;
    let receiving = 0;
    for (const r of records) {
      const n = r.frameArrivalsMs.filter((t) => t >= at && t < to).length;
      if (n > 0) {
        frames += n;
        receiving++;
      }
    }
    const l = summarize(samples.filter((p) => p.heardMs >= at && p.heardMs < to).map((p) => p.heardMs - p.sentMs));
    points.push({
      atS: at / 1000,
      sessions: receiving,
      fps: receiving ? (frames * 1000) / (Math.min(to, end) - at) / receiving : undefined,
      latencyP50Ms: l.count ? l.p50 : undefined,
      latencyP95Ms: l.count ? l.p95 : undefined,
    });
  }
  return points;
}

export interface RunSummary {
  sessions: number;
  failed: number;
  connectMs: Summary;
  firstFrameMs: Summary;
  /** Over every latency sample of every session. */
  latencyMs: Summary;
  /** Per-session received FPS: p5 is what 95 % of sessions got at least. */
  fps: Summary & { p5: number };
  jitterMs: Summary;
  freezes: number;
  frozenMs: number;
  videoLoss: Summary;
  videoKbps: Summary;
  serverLatencyP95Ms: Summary;
  onsetsMissed: number;
}

export function summarizeRun(summaries: readonly SessionSummary[]): RunSummary {
  const ok = summaries.filter((s) => s.ok);
  const pick = (f: (s: SessionSummary) => number | undefined, from = ok) =>
    from.map(f).filter((x): x is number => x !== undefined && Number.isFinite(x));
  const fps = pick((s) => s.frames.fps);
  const p5 = percentile(
    [...fps].sort((a, b) => a - b),
    0.05,
  );
  return {
    sessions: summaries.length,
    failed: summaries.length - ok.length,
    connectMs: summarize(pick((s) => s.connectMs, [...summaries])),
    firstFrameMs: summarize(pick((s) => s.firstFrameMs, [...summaries])),
    latencyMs: summarize(ok.flatMap((s) => s.latencySamples.map((x) => x.ms))),
    fps: { ...summarize(fps), p5 },
    jitterMs: summarize(pick((s) => s.frames.jitterMs)),
    freezes: ok.reduce((n, s) => n + s.frames.freezes, 0),
    frozenMs: ok.reduce((n, s) => n + s.frames.frozenMs, 0),
    videoLoss: summarize(pick((s) => s.videoLoss)),
    videoKbps: summarize(pick((s) => s.videoKbps)),
    serverLatencyP95Ms: summarize(pick((s) => s.serverLatencyP95Ms)),
    onsetsMissed: ok.reduce((n, s) => n + s.onsetsMissed, 0),
  };
}
