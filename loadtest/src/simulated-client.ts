// One simulated user: a real WebRTC session through the SDK's Node entry (@roamhq/wrtc: ICE, DTLS, SRTP, the VP8 or
// H.264 decoder of libwebrtc), speaking the speech timeline either as a microphone (Opus over a WebRTC send track)
// or as an agent (PcmChunk messages on the signalling socket), and recording what it gets back: when each decoded
// frame arrived, when each speech onset came back in the avatar's speech track, the receive-side RTP statistics and
// the server's own Stats. Numbers are computed afterwards (session-summary.ts).
import wrtc from '@roamhq/wrtc';
import { type AvatarClient, connect } from '@splatcast/client-sdk/node';
import { OnsetDetector, type OnsetDetectorOptions } from './onset-detector.js';
import { SpeechDriver, type SpeechSink } from './speech-driver.js';
import type { SpeechTimeline } from './speech-timeline.js';

export type DriveMode = 'mic' | 'push';

/** Sample rate each mode sends at: WebRTC audio is 48 kHz, agents push 16 kHz. */
export const MODE_SAMPLE_RATE: Record<DriveMode, 48000 | 16000> = { mic: 48000, push: 16000 };

export interface SessionPlan {
  index: number;
  url: string;
  token: string;
  identityId?: string;
  mode: DriveMode;
  timeline: SpeechTimeline;
  /** performance.now() of the run's start: every recorded time is relative to it. */
  runStartedAt: number;
  /** performance.now() at which to stop speaking and hang up. */
  stopAt: number;
  connectTimeoutMs: number;
  detector?: OnsetDetectorOptions;
}

export interface RtpCounters {
  ssrc: number;
  packetsReceived: number;
  packetsLost: number;
  bytesReceived: number;
  jitterBufferDelay: number;
  jitterBufferEmittedCount: number;
}

export interface RtpPoll {
  atMs: number;
  video: RtpCounters | undefined;
  audio: RtpCounters | undefined;
}

export interface SessionRecord {
  index: number;
  sessionId: string;
  mode: DriveMode;
  /** Why the session failed (could not connect, no video, closed early); undefined when it ran to the end. */
  error: string | undefined;
  /** connect() called to the session ready (signalling, ICE, DTLS, consumers), ms. */
  connectMs: number | undefined;
  /** connect() called to the first decoded video frame, ms. */
  firstFrameMs: number | undefined;
  fps: number;
  startedAtMs: number;
  endedAtMs: number;
  frameArrivalsMs: number[];
  sentOnsetsMs: number[];
  heardOnsetsMs: number[];
  serverStats: { atMs: number; fps: number; latencyMsP95: number }[];
  rtp: RtpPoll[];
  reconnects: number;
}

const STATS_POLL_MS = 1000;

/**
 * The receive statistics of the avatar's stream of `kind`. mediasoup's bandwidth probation shows up beside the
 * video as an inbound stream of its own (SSRC 1234, padding only, early on as many bytes as the video): the video
 * is the entry that decodes the most frames, the speech the one with the most packets.
 */
function counters(report: RTCStatsReport, kind: 'video' | 'audio'): RtpCounters | undefined {
  let found: RtpCounters | undefined;
  let best = -1;
  report.forEach((s: Record<string, unknown>) => {
    if (s.type !== 'inbound-rtp' || s.kind !== kind) return;
    const n = (k: string) => (typeof s[k] === 'number' ? (s[k] as number) : 0);
    const score = kind === 'video' ? n('framesDecoded') : n('packetsReceived');
    if (score <= best) return;
    best = score;
    found = {
      ssrc: n('ssrc'),
      packetsReceived: n('packetsReceived'),
      packetsLost: n('packetsLost'),
      bytesReceived: n('bytesReceived'),
      jitterBufferDelay: n('jitterBufferDelay'),
      jitterBufferEmittedCount: n('jitterBufferEmittedCount'),
    };
  });
  return found;
}

/** An agent: each utterance is one segment of PcmChunks (16 kHz), nothing is sent in the pauses. */
function agentSink(client: AvatarClient): SpeechSink {
  return {
    write: (chunk, speech) => {
      if (speech) client.pushPcm(chunk, 16000);
    },
    endUtterance: () => client.endSegment(),
  };
}

/** A microphone: 10 ms frames of 48 kHz PCM into the WebRTC track, silence included, as a real one sends. */
function microphoneSink(source: wrtc.nonstandard.RTCAudioSource): SpeechSink {
  const pcm = new Int16Array(480);
  return {
    write: (chunk) => {
      for (let i = 0; i < chunk.length; i++) pcm[i] = Math.round(Math.max(-1, Math.min(1, chunk[i] as number)) * 32767);
      source.onData({ samples: pcm, sampleRate: 48000, bitsPerSample: 16, channelCount: 1, numberOfFrames: 480 });
    },
    endUtterance: () => {},
  };
}

export async function runSession(plan: SessionPlan): Promise<SessionRecord> {
  const rel = (t: number) => t - plan.runStartedAt;
  const started = performance.now();
  const record: SessionRecord = {
    index: plan.index,
    sessionId: '',
    mode: plan.mode,
    error: undefined,
    connectMs: undefined,
    firstFrameMs: undefined,
    fps: 25,
    startedAtMs: rel(started),
    endedAtMs: rel(started),
    frameArrivalsMs: [],
    sentOnsetsMs: [],
    heardOnsetsMs: [],
    serverStats: [],
    rtp: [],
    reconnects: 0,
  };
  let client: AvatarClient | undefined;
  let videoSink: wrtc.nonstandard.RTCVideoSink | undefined;
  let audioSink: wrtc.nonstandard.RTCAudioSink | undefined;
  let micTrack: MediaStreamTrack | undefined;
  let driver: SpeechDriver | undefined;
  let poll: NodeJS.Timeout | undefined;
  let closedEarly: string | undefined;
  let wakeFirstFrame: (() => void) | undefined;
  const detector = new OnsetDetector(plan.detector);

  // Sinks follow the stream's tracks: after a reconnect that had to negotiate media again, they are new ones.
  const attachSinks = () => {
    const stream = client?.mediaStream;
    const video = stream?.getVideoTracks()[0];
    const audio = stream?.getAudioTracks()[0];
    videoSink?.stop();
    audioSink?.stop();
    videoSink = video ? new wrtc.nonstandard.RTCVideoSink(video) : undefined;
    audioSink = audio ? new wrtc.nonstandard.RTCAudioSink(audio) : undefined;
    if (videoSink)
      videoSink.onframe = () => {
        const now = performance.now();
        if (record.firstFrameMs === undefined) {
          record.firstFrameMs = now - started;
          wakeFirstFrame?.();
        }
        record.frameArrivalsMs.push(rel(now));
      };
    if (audioSink)
      audioSink.ondata = (data: wrtc.nonstandard.RTCAudioData) => {
        // The block was just handed out for playback; its samples are the ones heard now.
        const now = performance.now();
        const channels = data.channelCount ?? 1;
        const frames = data.samples.length / channels;
        const mono = new Float32Array(frames);
        for (let i = 0; i < frames; i++) mono[i] = (data.samples[i * channels] as number) / 32768;
        for (const at of detector.push(mono, data.sampleRate, now)) record.heardOnsetsMs.push(rel(at));
      };
  };

  try {
    client = await connect({
      url: plan.url,
      token: plan.token,
      video: true,
      requestTimeoutMs: plan.connectTimeoutMs,
      ...(plan.identityId ? { identityId: plan.identityId } : {}),
    });
    record.connectMs = performance.now() - started;
    record.sessionId = client.sessionId;
    record.fps = client.config?.fps || 25;
    client.on('closed', ({ reason }) => {
      closedEarly ??= `closed by the server: ${reason}`;
    });
    client.on('reconnecting', () => record.reconnects++);
    client.on('ready', attachSinks);
    client.on('stats', (s) =>
      record.serverStats.push({ atMs: rel(performance.now()), fps: s.fps, latencyMsP95: s.latencyMsP95 }),
    );
    attachSinks();
    await new Promise<void>((resolve, reject) => {
      if (record.firstFrameMs !== undefined) return resolve();
      const timer = setTimeout(
        () => reject(new Error(`no video frame within ${plan.connectTimeoutMs} ms of the session being ready`)),
        plan.connectTimeoutMs,
      );
      wakeFirstFrame = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    let sink: SpeechSink;
    if (plan.mode === 'mic') {
      const source = new wrtc.nonstandard.RTCAudioSource();
      micTrack = source.createTrack();
      await client.startMicrophone(micTrack);
      sink = microphoneSink(source);
    } else sink = agentSink(client);
    driver = new SpeechDriver(plan.timeline, plan.mode === 'mic' ? 10 : 20, sink);
    driver.start();
    const live = client;
    poll = setInterval(() => {
      live
        .receiverStats()
        .then((report) => {
          if (report)
            record.rtp.push({
              atMs: rel(performance.now()),
              video: counters(report, 'video'),
              audio: counters(report, 'audio'),
            });
        })
        .catch(() => {});
    }, STATS_POLL_MS);
    while (performance.now() < plan.stopAt && !closedEarly && !driver.failure)
      await new Promise((resolve) => setTimeout(resolve, Math.min(200, Math.max(1, plan.stopAt - performance.now()))));
    if (driver.failure) record.error = `sending speech failed: ${driver.failure.message}`;
    else if (closedEarly) record.error = closedEarly;
  } catch (error) {
    record.error = (error as Error).message || String(error);
  } finally {
    record.endedAtMs = rel(performance.now());
    driver?.stop();
    clearInterval(poll);
    if (driver) record.sentOnsetsMs = driver.sentOnsetsMs.map(rel);
    // libwebrtc's sinks go first: a sink still attached to a track of a closed peer connection can crash wrtc.
    videoSink?.stop();
    audioSink?.stop();
    client?.close();
    micTrack?.stop();
  }
  return record;
}
