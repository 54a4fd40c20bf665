// RTP writing and parsing, VP8 and H.264 payloaders, RTCP keyframe requests, abs-capture-time: byte-level checks.
import t from 'tap';
import { h264Payloads, MAX_PAYLOAD_BYTES, vp8Payloads } from '../../src/media/rtp/payloaders.js';
import { keyframeRequests } from '../../src/media/rtp/rtcp.js';
import { absCaptureTime, parseRtpPacket, readAbsCaptureTime, writeRtpPacket } from '../../src/media/rtp/rtp-packet.js';

t.test('an RTP packet round-trips, with a one-byte header extension', async (t) => {
  const payload = Uint8Array.from({ length: 300 }, (_, i) => i & 255);
  const packet = writeRtpPacket({
    payloadType: 101,
    sequenceNumber: 65535,
    timestamp: 2 ** 32 - 1,
    ssrc: 0xdeadbeef,
    marker: true,
    extensions: [{ id: 1, data: absCaptureTime(1_700_000_000_123.5) }],
    payload,
  });
  t.equal(packet[0], 0x90, 'version 2 with the extension bit');
  t.equal(packet.readUInt16BE(12), 0xbede, 'one-byte extension profile');
  const parsed = parseRtpPacket(packet);
  t.match(parsed, { payloadType: 101, sequenceNumber: 65535, timestamp: 2 ** 32 - 1, ssrc: 0xdeadbeef, marker: true });
  t.same(Buffer.from(parsed?.payload ?? []), Buffer.from(payload));
  t.throws(() =>
    writeRtpPacket({
      payloadType: 1,
      sequenceNumber: 0,
      timestamp: 0,
      ssrc: 1,
      marker: false,
      extensions: [{ id: 15, data: new Uint8Array(1) }],
      payload,
    }),
  );
  t.equal(parseRtpPacket(new Uint8Array(5)), undefined, 'too short');
  t.equal(parseRtpPacket(Buffer.from([0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])), undefined, 'not version 2');
  const padded = Buffer.concat([
    writeRtpPacket({
      payloadType: 111,
      sequenceNumber: 1,
      timestamp: 1,
      ssrc: 1,
      marker: false,
      payload: new Uint8Array([7, 7]),
    }),
    Buffer.from([0, 0, 3]),
  ]);
  padded[0] = (padded[0] as number) | 0x20;
  t.same([...(parseRtpPacket(padded)?.payload ?? [])], [7, 7], 'padding is stripped');
});

t.test('abs-capture-time is NTP UQ32.32 of the epoch time', async (t) => {
  const ms = 1_796_000_000_456.25;
  t.ok(Math.abs(readAbsCaptureTime(absCaptureTime(ms)) - ms) < 0.001);
  t.equal(new DataView(absCaptureTime(0).buffer).getUint32(0), 2208988800, 'the NTP epoch is 1900');
});

t.test('VP8 payloads: descriptor with S on the first, picture id, every byte once, within the MTU', async (t) => {
  const frame = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) & 255);
  const payloads = vp8Payloads(frame, 0x1234);
  t.ok(payloads.every((p) => p.length <= MAX_PAYLOAD_BYTES));
  t.same(
    payloads.map((p) => p[0]),
    [0x90, 0x80, 0x80, 0x80, 0x80],
  );
  t.ok(
    payloads.every((p) => p[1] === 0x80 && p[2] === (0x80 | 0x12) && p[3] === 0x34),
    'I bit and a 15-bit picture id',
  );
  t.same(Buffer.concat(payloads.map((p) => p.subarray(4))), Buffer.from(frame));
  t.equal(vp8Payloads(new Uint8Array(0), 1).length, 1, 'an empty frame still makes one packet');
});

t.test('H.264 payloads: small NAL units whole, large ones as FU-A with start and end bits', async (t) => {
  const sps = [0x67, 1, 2, 3];
  const pps = [0x68, 4, 5];
  const idr = [0x65, ...Array.from({ length: 3000 }, (_, i) => (i % 250) + 1)];
  const annexB = Uint8Array.from([0, 0, 0, 1, ...sps, 0, 0, 1, ...pps, 0, 0, 0, 1, ...idr]);
  const payloads = h264Payloads(annexB);
  t.same([...(payloads[0] ?? [])], sps);
  t.same([...(payloads[1] ?? [])], pps);
  const fus = payloads.slice(2);
  t.ok(fus.length >= 3 && fus.every((p) => p.length <= MAX_PAYLOAD_BYTES));
  t.ok(
    fus.every((p) => ((p[0] as number) & 0x1f) === 28 && ((p[0] as number) & 0x60) === (0x65 & 0x60)),
    'FU indicator keeps NRI',
  );
  t.equal((fus[0]?.[1] as number) & 0xc0, 0x80, 'start bit on the first fragment');
  t.equal((fus.at(-1)?.[1] as number) & 0xc0, 0x40, 'end bit on the last');
  t.ok(
    fus.every((p) => ((p[1] as number) & 0x1f) === 5),
    'the NAL type (IDR) in every FU header',
  );
  t.same(Buffer.concat([Buffer.from([0x65]), ...fus.map((p) => p.subarray(2))]), Buffer.from(idr), 'reassembles');
});

t.test('RTCP: PLI and FIR ask for keyframes, other feedback does not, garbage stops the walk', async (t) => {
  const rr = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 1]); // empty receiver report
  const pli = Buffer.from([0x81, 206, 0, 2, 0, 0, 0, 1, 0x12, 0x34, 0x56, 0x78]);
  const fir = Buffer.from([0x84, 206, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd, 1, 0, 0, 0]);
  const remb = Buffer.from([0x8f, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 9]);
  t.same(keyframeRequests(Buffer.concat([rr, pli, remb, fir])), [0x12345678, 0xaabbccdd]);
  t.same(keyframeRequests(Buffer.from([0x81, 206, 0, 9, 1])), [], 'a truncated packet');
  t.same(keyframeRequests(Buffer.alloc(0)), []);
});
