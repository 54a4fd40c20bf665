// RTCP Sender Reports for the avatar's tracks. The avatar's producers live on a DirectTransport and we send them no
// SR; mediasoup's consumers write their own, from their send streams: RTP time of the newest packet plus the time
// since it reached the worker. This checks that they do, on a PlainTransport consumer read from a UDP socket (what
// a browser's WebRtcTransport gets too, under SRTP), and that the video and speech SRs put a frame's picture and its
// speech at the same wall-clock instant, which is what a receiver's lip sync works from. It also checks that both
// consumers share one CNAME: mediasoup-client puts consumers of one CNAME into one MediaStream, the sync group.
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import * as mediasoup from 'mediasoup';
import t from 'tap';
import type { EncodedEngineFrame } from '../../src/engine/protocol.js';
import { AvatarStream } from '../../src/media/avatar-stream.js';
import { parseRtpPacket } from '../../src/media/rtp/rtp-packet.js';
import { VideoEncoder } from '../../src/media/video-encoder.js';
import { ROUTER_CODECS } from '../../src/sfu/media-worker-pool.js';

const RTCP_SR = 200;
const NTP_UNIX_OFFSET_S = 2_208_988_800;

interface SenderReport {
  ssrc: number;
  /** Wall clock of the report, ms since 1970 (from its NTP timestamp). */
  ntpMs: number;
  rtpTime: number;
  packets: number;
}

/** Sender reports in a compound RTCP packet (RFC 3550 section 6.4.1). */
function senderReports(packet: Buffer): SenderReport[] {
  const reports: SenderReport[] = [];
  for (let at = 0; at + 4 <= packet.length; ) {
    if ((packet[at] as number) >> 6 !== 2) break;
    const length = (packet.readUInt16BE(at + 2) + 1) * 4;
    if (packet[at + 1] === RTCP_SR && length >= 28 && at + length <= packet.length)
      reports.push({
        ssrc: packet.readUInt32BE(at + 4),
        ntpMs:
          (packet.readUInt32BE(at + 8) - NTP_UNIX_OFFSET_S) * 1000 + (packet.readUInt32BE(at + 12) / 2 ** 32) * 1000,
        rtpTime: packet.readUInt32BE(at + 16),
        packets: packet.readUInt32BE(at + 20),
      });
    at += length;
  }
  return reports;
}

/** a - b on the 32-bit RTP clock, as a signed number of ticks. */
function ticksBetween(a: number, b: number): number {
  return ((a - b + 2 ** 31) >>> 0) - 2 ** 31;
}

t.test("mediasoup sends sender reports for both avatar tracks, agreeing on each frame's instant", async (t) => {
  const worker = await mediasoup.createWorker({ logLevel: 'warn' });
  t.teardown(() => worker.close());
  const router = await worker.createRouter({ mediaCodecs: ROUTER_CODECS });
  const direct = await router.createDirectTransport();
  const stream = await AvatarStream.create(direct, 'vp8');
  t.teardown(() => stream.close());

  const socket = dgram.createSocket('udp4');
  t.teardown(() => socket.close());
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const plain = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: false });
  await plain.connect({ ip: '127.0.0.1', port: (socket.address() as AddressInfo).port });
  const video = await plain.consume({ producerId: stream.videoProducer.id, rtpCapabilities: router.rtpCapabilities });
  const audio = await plain.consume({ producerId: stream.audioProducer.id, rtpCapabilities: router.rtpCapabilities });
  const videoSsrc = video.rtpParameters.encodings?.[0]?.ssrc as number;
  const audioSsrc = audio.rtpParameters.encodings?.[0]?.ssrc as number;
  t.ok(video.rtpParameters.rtcp?.cname, 'the video consumer has a CNAME');
  t.equal(audio.rtpParameters.rtcp?.cname, video.rtpParameters.rtcp?.cname, 'one CNAME for picture and speech');

  const reports: SenderReport[] = [];
  /** RTP time of the first packet received per SSRC: does the consumer keep the producer's RTP times? */
  const firstTimestamp = new Map<number, number>();
  socket.on('message', (packet) => {
    const second = packet[1] as number;
    if (second >= 200 && second <= 206) reports.push(...senderReports(packet));
    else {
      const rtp = parseRtpPacket(packet);
      if (rtp && !firstTimestamp.has(rtp.ssrc)) firstTimestamp.set(rtp.ssrc, rtp.timestamp);
    }
  });

  // Frames as the engine worker sends them, at 25 fps: real VP8 (keyframes decide what a video consumer forwards)
  // and 640 samples of speech each.
  const width = 64;
  const height = 64;
  const encoder = new VideoEncoder({ codec: 'vp8', width, height, fps: 25, bitrateBps: 200_000 });
  t.teardown(() => encoder.close());
  const picture = new Uint8Array((width * height * 3) / 2).fill(128);
  const speech = Float32Array.from({ length: 640 }, (_, i) => 0.2 * Math.sin(i / 5));
  // Audio SRs come at most every 5 s (mediasoup's audio RTCP interval), video ones every second.
  const seconds = 7;
  const started = performance.now();
  for (let k = 0; k < seconds * 25; k++) {
    const due = started + k * 40;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
    const encoded = await encoder.encode(picture, k, k % 25 === 0);
    const now = performance.timeOrigin + performance.now();
    const frame: EncodedEngineFrame = {
      sessionId: 'sr-test',
      frameIndex: k,
      ptsMs: k * 40,
      width,
      height,
      audio: speech,
      speaking: true,
      timing: { tickMs: now, featuresMs: now, renderedMs: now, encodedMs: now, audioArrivalMs: now },
      video: { codec: 'vp8', data: encoded.data, keyframe: encoded.keyframe },
    };
    stream.send(frame);
  }
  await new Promise((resolve) => setTimeout(resolve, 200));

  const videoReports = reports.filter((r) => r.ssrc === videoSsrc);
  const audioReports = reports.filter((r) => r.ssrc === audioSsrc);
  t.comment(`${videoReports.length} video and ${audioReports.length} audio sender reports in ${seconds} s`);
  t.ok(videoReports.length >= 3, 'video sender reports arrive (about one a second)');
  t.ok(audioReports.length >= 1, 'audio sender reports arrive');
  const [videoTs0, audioTs0] = [firstTimestamp.get(videoSsrc), firstTimestamp.get(audioSsrc)];
  t.equal(videoTs0, stream.clock.video(0), "the consumer keeps the producer's video RTP times");
  t.equal(audioTs0, stream.clock.audio(0, 0), 'and its speech RTP times');

  // Where does each SR put frame k? Its wall clock plus the RTP distance from the SR's RTP time to frame k's.
  const instant = (report: SenderReport, rtpTime: number, rate: number) =>
    report.ntpMs + (ticksBetween(rtpTime, report.rtpTime) * 1000) / rate;
  const last = (xs: SenderReport[]) => xs.at(-1) as SenderReport;
  const k = seconds * 25 - 10;
  const pictureAt = instant(last(videoReports), stream.clock.video(k), 90000);
  const speechAt = instant(last(audioReports), stream.clock.audio(k, 0), 48000);
  const skew = speechAt - pictureAt;
  t.comment(`frame ${k}: speech ${skew.toFixed(1)} ms after its picture by the sender reports`);
  t.ok(Math.abs(skew) < 40, 'picture and speech of a frame map to the same instant (within one frame)');
  // And the SRs follow the wall clock: consecutive video SRs advance RTP time at 90 kHz of real time.
  const [a, b] = [videoReports.at(-3) as SenderReport, last(videoReports)];
  const rate = (ticksBetween(b.rtpTime, a.rtpTime) * 1000) / (b.ntpMs - a.ntpMs);
  t.ok(Math.abs(rate - 90000) < 90000 * 0.05, `video SRs advance at ${rate.toFixed(0)} ticks/s (90000 ± 5 %)`);
});
