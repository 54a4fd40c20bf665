// A session's rendering statistics over a sliding window: frames sent, server-side latency of speech frames
// (audio arrival to RTP send), video bytes. Sent to the client as Stats, and read by the load tests.
import type { EncodedEngineFrame } from '../engine/protocol.js';

const WINDOW_MS = 5000;

interface Sample {
  at: number;
  latencyMs: number | undefined;
  bytes: number;
}

export class SessionStats {
  private samples: Sample[] = [];
  bitrateTarget = 0;
  lastInterruptMs: number | undefined;
  framesSent = 0;

  frameSent(frame: EncodedEngineFrame, sentMs: number): void {
    this.framesSent++;
    const latencyMs = frame.timing.audioArrivalMs === undefined ? undefined : sentMs - frame.timing.audioArrivalMs;
    this.samples.push({ at: sentMs, latencyMs, bytes: frame.video?.data.byteLength ?? 0 });
    this.trim(sentMs);
  }

  interrupted(ms: number): void {
    this.lastInterruptMs = ms;
  }

  /** The last WINDOW_MS: fps, latency p50/p95 of speech frames, video bitrate. */
  window(now = performance.timeOrigin + performance.now()) {
    this.trim(now);
    const span = this.samples.length > 1 ? Math.max(1, now - (this.samples[0] as Sample).at) : WINDOW_MS;
    const latencies = this.samples
      .flatMap((s) => (s.latencyMs === undefined ? [] : [s.latencyMs]))
      .sort((a, b) => a - b);
    const pct = (p: number) =>
      latencies.length
        ? Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] as number)
        : 0;
    const bytes = this.samples.reduce((n, s) => n + s.bytes, 0);
    return {
      fps: (this.samples.length * 1000) / span,
      latencyMsP50: pct(0.5),
      latencyMsP95: pct(0.95),
      videoBitrateBps: Math.round((bytes * 8 * 1000) / span),
      windowMs: Math.round(span),
    };
  }

  private trim(now: number): void {
    let drop = 0;
    while (drop < this.samples.length && (this.samples[drop] as Sample).at < now - WINDOW_MS) drop++;
    if (drop) this.samples.splice(0, drop);
  }
}
