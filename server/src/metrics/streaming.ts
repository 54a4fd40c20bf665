// Streaming metrics: per-frame latency by stage (audio arrival → features → render → encode → RTP send), sessions,
// interrupts and worker restarts. Stage times are epoch ms measured in the engine worker and in this process.
import { Counter, Gauge, Histogram } from 'prom-client';
import type { EncodedEngineFrame } from '../engine/protocol.js';
import { registry } from './registry.js';

const buckets = [1, 2, 5, 10, 20, 40, 60, 80, 100, 120, 150, 200, 300, 500, 1000, 2000];

export const frameStageMs = new Histogram({
  name: 'splatcast_frame_stage_milliseconds',
  help: 'Time a speech frame spent in each stage: features (audio arrival to features ready), render, encode, send (encoded to RTP sent), total (audio arrival to RTP sent)',
  labelNames: ['stage'] as const,
  buckets,
  registers: [registry],
});

export const framesSent = new Counter({
  name: 'splatcast_frames_sent_total',
  help: 'Video frames sent, by whether they carried speech',
  labelNames: ['speaking'] as const,
  registers: [registry],
});

export const sessionsGauge = new Gauge({
  name: 'splatcast_sessions',
  help: 'Streaming sessions open (including those waiting for a resume)',
  registers: [registry],
});

export const sessionsTotal = new Counter({
  name: 'splatcast_sessions_total',
  help: 'Sessions opened, and why they were refused',
  labelNames: ['result'] as const,
  registers: [registry],
});

export const interruptMs = new Histogram({
  name: 'splatcast_interrupt_milliseconds',
  help: 'ClearBuffer received to the first idle frame sent',
  buckets,
  registers: [registry],
});

export const workerRestarts = new Counter({
  name: 'splatcast_worker_restarts_total',
  help: 'Worker processes that died and were restarted',
  labelNames: ['kind'] as const,
  registers: [registry],
});

export const engineResumeMs = new Histogram({
  name: 'splatcast_engine_resume_milliseconds',
  help: "An engine worker's death seen to its sessions running again on the replacement (the warm spare, or a fresh process)",
  labelNames: ['replacement'] as const,
  buckets: [10, 25, 50, 100, 250, 500, 1000, 2000, 5000, 10000, 30000],
  registers: [registry],
});

export const keyframeRequestsTotal = new Counter({
  name: 'splatcast_keyframe_requests_total',
  help: 'PLI/FIR keyframe requests from receivers',
  registers: [registry],
});

/** Records a sent frame's stage times (speech frames only have an audio arrival). */
export function observeFrame(frame: EncodedEngineFrame, sentMs: number): void {
  framesSent.inc({ speaking: String(frame.speaking) });
  const t = frame.timing;
  if (t.audioArrivalMs === undefined || t.encodedMs === undefined) return;
  frameStageMs.observe({ stage: 'features' }, t.featuresMs - t.audioArrivalMs);
  frameStageMs.observe({ stage: 'render' }, t.renderedMs - t.featuresMs);
  frameStageMs.observe({ stage: 'encode' }, t.encodedMs - t.renderedMs);
  frameStageMs.observe({ stage: 'send' }, sentMs - t.encodedMs);
  frameStageMs.observe({ stage: 'total' }, sentMs - t.audioArrivalMs);
}
