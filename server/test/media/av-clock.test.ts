// The avatar's audio and video clocks. A synthetic ten-hour run (900,000 frames, with dropped tick slots as an
// overloaded worker makes them) checks that speech and video RTP times name the same media instant at every frame,
// exactly, across 32-bit wrap-arounds; then the real AvatarStream is checked to send what the clock says.
import type { types } from 'mediasoup';
import t from 'tap';
import type { EncodedEngineFrame } from '../../src/engine/protocol.js';
import { EnhancedEventEmitter } from '../../src/enhanced-events.js';
import { AvatarStream } from '../../src/media/avatar-stream.js';
import { MediaClock } from '../../src/media/media-clock.js';
import { parseRtpPacket } from '../../src/media/rtp/rtp-packet.js';

t.test('ten hours of frames: speech and video RTP times stay locked to the frame index', async (t) => {
  const clock = new MediaClock(2 ** 32 - 5000, 123);
  let frameIndex = 0;
  let video = 0; // unwrapped 90 kHz ticks since frame 0
  let audio = 0; // unwrapped 48 kHz ticks since frame 0
  let prevV = clock.video(0);
  let prevA = clock.audio(0, 0);
  let worst = 0;
  let wrapped = false;
  for (let n = 1; n < 10 * 3600 * 25; n++) {
    const step = n % 997 === 0 ? 2 : 1; // a dropped slot: the tick index jumps with the wall clock
    frameIndex += step;
    const v = clock.video(frameIndex);
    const a0 = clock.audio(frameIndex, 0);
    const a1 = clock.audio(frameIndex, 1);
    wrapped ||= v < prevV;
    video += (v - prevV + 2 ** 32) % 2 ** 32;
    audio += (a0 - prevA + 2 ** 32) % 2 ** 32;
    prevV = v;
    prevA = a0;
    // In integer ticks: 90 kHz video and 48 kHz speech both equal frameIndex x 40 ms.
    worst = Math.max(worst, Math.abs(video - frameIndex * 3600), Math.abs(audio - frameIndex * 1920));
    if ((a1 - a0 + 2 ** 32) % 2 ** 32 !== 960) throw new Error(`frame ${frameIndex}: second speech packet misplaced`);
  }
  t.equal(worst, 0, 'speech, video and the frame clock agree to the tick after ten hours');
  t.equal(video / 90000, audio / 48000, 'the same media time in seconds');
  t.ok(wrapped, 'the video RTP time wrapped around 2^32 on the way');
});

t.test('the AvatarStream sends what the clock says', async (t) => {
  const sent: { kind: string; packet: Buffer }[] = [];
  const transport = new EnhancedEventEmitter() as unknown as types.DirectTransport;
  (transport as unknown as { produce: unknown }).produce = async ({ kind }: { kind: string }) => ({
    kind,
    closed: false,
    close() {},
    send: (packet: Buffer) => sent.push({ kind, packet }),
  });
  const stream = await AvatarStream.create(transport, 'vp8');
  t.teardown(() => stream.close());
  for (const frameIndex of [0, 1, 2, 5]) {
    stream.send({
      sessionId: 's',
      frameIndex,
      ptsMs: frameIndex * 40,
      width: 64,
      height: 64,
      audio: new Float32Array(640),
      speaking: false,
      timing: { tickMs: 1000, featuresMs: 1000, renderedMs: 1000 },
      video: { codec: 'vp8', data: new Uint8Array(3000), keyframe: frameIndex === 0 },
    } satisfies EncodedEngineFrame);
  }
  await new Promise((resolve) => setTimeout(resolve, 60));
  const ts = (kind: string) => sent.filter((s) => s.kind === kind).map((s) => parseRtpPacket(s.packet)?.timestamp);
  const c = stream.clock;
  t.same(
    [...new Set(ts('video'))],
    [0, 1, 2, 5].map((k) => c.video(k)),
    'three packets per 3000-byte frame, one time each',
  );
  t.same(
    ts('audio').sort(),
    [0, 1, 2, 5].flatMap((k) => [c.audio(k, 0), c.audio(k, 1)]).sort(),
    'two speech packets per frame',
  );
  const markers = sent.filter((s) => s.kind === 'video').map((s) => parseRtpPacket(s.packet)?.marker);
  t.equal(markers.filter(Boolean).length, 4, 'the marker on the last packet of each frame');
  t.equal(stream.counters.keyframesSent, 1);
});
