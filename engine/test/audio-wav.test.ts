import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { readWav, readWavAt16k } from '../src/audio/wav.js';

interface WavSpec {
  code?: number;
  bits: number;
  rate?: number;
  /** Per channel. */
  channels: number[][];
  extensible?: boolean;
  /** An odd-sized chunk before fmt, to check word alignment. */
  junk?: boolean;
  dataSize?: number;
}

function encode(value: number, spec: WavSpec): Buffer {
  const b = Buffer.alloc(spec.bits / 8);
  if ((spec.code ?? 1) === 3) {
    if (spec.bits === 32) b.writeFloatLE(value);
    else b.writeDoubleLE(value);
  } else if (spec.bits === 8) b[0] = Math.round(value * 127 + 128);
  else b.writeIntLE(Math.round(value * (2 ** (spec.bits - 1) - 1)), 0, spec.bits / 8);
  return b;
}

function makeWav(spec: WavSpec): Buffer {
  const channels = spec.channels.length;
  const frames = spec.channels[0]?.length ?? 0;
  const blockAlign = (channels * spec.bits) / 8;
  const fmt = Buffer.alloc(spec.extensible ? 40 : 16);
  fmt.writeUInt16LE(spec.extensible ? 0xfffe : (spec.code ?? 1), 0);
  fmt.writeUInt16LE(channels, 2);
  fmt.writeUInt32LE(spec.rate ?? 16000, 4);
  fmt.writeUInt32LE((spec.rate ?? 16000) * blockAlign, 8);
  fmt.writeUInt16LE(blockAlign, 12);
  fmt.writeUInt16LE(spec.bits, 14);
  if (spec.extensible) {
    fmt.writeUInt16LE(22, 16);
    fmt.writeUInt16LE(spec.bits, 18);
    fmt.writeUInt16LE(spec.code ?? 1, 24);
  }
  const samples: Buffer[] = [];
  for (let i = 0; i < frames; i++) for (const ch of spec.channels) samples.push(encode(ch[i] as number, spec));
  const data = Buffer.concat(samples);
  const chunk = (id: string, body: Buffer, size = body.length) => {
    const head = Buffer.alloc(8);
    head.write(id, 0, 'latin1');
    head.writeUInt32LE(size, 4);
    return Buffer.concat([head, body, Buffer.alloc(body.length % 2)]);
  };
  const body = Buffer.concat([
    Buffer.from('WAVE'),
    ...(spec.junk ? [chunk('LIST', Buffer.from('abc'))] : []),
    chunk('fmt ', fmt),
    chunk('data', data, spec.dataSize),
  ]);
  return Buffer.concat([chunk('RIFF', body)]);
}

const close = (a: ArrayLike<number>, b: number[], tolerance: number) =>
  a.length === b.length && b.every((v, i) => Math.abs((a[i] as number) - v) <= tolerance);

t.test('PCM16 stereo mixes down to mono', async (t) => {
  const wav = readWav(
    makeWav({
      bits: 16,
      channels: [
        [0.5, -0.5, 1],
        [0.25, 0.5, 1],
      ],
    }),
  );
  t.equal(wav.channels, 2);
  t.equal(wav.sampleRate, 16000);
  t.ok(close(wav.samples, [0.375, 0, 1], 1e-4), `${Array.from(wav.samples)}`);
});

for (const [label, spec] of [
  ['PCM8', { bits: 8 }],
  ['PCM24', { bits: 24 }],
  ['PCM32', { bits: 32 }],
  ['float32', { bits: 32, code: 3 }],
  ['float64', { bits: 64, code: 3 }],
  ['extensible PCM24 after an odd-sized chunk', { bits: 24, extensible: true, junk: true }],
  ['extensible float32', { bits: 32, code: 3, extensible: true }],
  ['a streamed data size (0xFFFFFFFF)', { bits: 16, dataSize: 0xffffffff }],
] as const)
  t.test(`reads ${label}`, async (t) => {
    const wav = readWav(makeWav({ ...spec, rate: 44100, channels: [[0.25, -0.75, 0.5]] }));
    t.equal(wav.sampleRate, 44100);
    t.ok(close(wav.samples, [0.25, -0.75, 0.5], spec.bits === 8 ? 1e-2 : 1e-4), `${Array.from(wav.samples)}`);
  });

t.test('any rate resamples to 16 kHz', async (t) => {
  const tone = Array.from({ length: 48000 }, (_, n) => 0.5 * Math.sin((2 * Math.PI * 440 * n) / 48000));
  const pcm = readWavAt16k(makeWav({ bits: 16, rate: 48000, channels: [tone] }));
  t.equal(pcm.length, 16000);
});

const corrupt: [string, Buffer, RegExp][] = [
  ['a tiny file', Buffer.from('RIFF'), /clip\.wav: 4 bytes is too short for a RIFF header/],
  ['not RIFF', Buffer.from('OggS00000000000000000000'), /not a RIFF file \(starts with "OggS"\)/],
  ['RIFF but not WAVE', Buffer.from('RIFF\x10\x00\x00\x00AVI LIST\x00\x00\x00\x00'), /RIFF file is not WAVE/],
  [
    'truncated data',
    makeWav({ bits: 16, channels: [[0, 0, 0, 0]] }).subarray(0, -3),
    /data chunk declares 8 bytes but only 5 remain: the file is truncated/,
  ],
  [
    'a truncated fmt chunk',
    makeWav({ bits: 16, channels: [[0]] }).subarray(0, 30),
    /"fmt " chunk declares 16 bytes but only 10 remain: truncated/,
  ],
  ['ADPCM', makeWav({ bits: 16, code: 2, channels: [[0]] }), /unsupported encoding \(format code 2, 16 bits\)/],
  [
    '12-bit PCM',
    (() => {
      const w = makeWav({ bits: 16, channels: [[0]] });
      w.writeUInt16LE(12, 34);
      return w;
    })(),
    /unsupported encoding \(format code 1, 12 bits\)/,
  ],
  [
    '0 channels',
    (() => {
      const w = makeWav({ bits: 16, channels: [[0]] });
      w.writeUInt16LE(0, 22);
      return w;
    })(),
    /declares 0 channels/,
  ],
  [
    'a wrong block align',
    (() => {
      const w = makeWav({ bits: 16, channels: [[0]] });
      w.writeUInt16LE(4, 32);
      return w;
    })(),
    /block align 4 does not match 1 channels x 16 bits/,
  ],
  ['a sample rate of 0', makeWav({ bits: 16, rate: 0, channels: [[0]] }), /sample rate 0 Hz is outside/],
  [
    'a partial sample frame',
    makeWav({ bits: 16, channels: [[0], [0]], dataSize: 3 }),
    /data chunk size 3 is not a whole number of 4-byte sample frames/,
  ],
  ['no data chunk', makeWav({ bits: 16, channels: [[0]] }).subarray(0, 36), /no data chunk/],
];
for (const [label, bytes, error] of corrupt)
  t.test(`rejects ${label}`, async (t) => {
    t.throws(() => readWav(bytes, 'clip.wav'), error);
  });

t.test('data before fmt is rejected', async (t) => {
  const w = makeWav({ bits: 16, channels: [[0]] });
  const fmt = w.subarray(12, 36);
  const data = w.subarray(36);
  const swapped = Buffer.concat([w.subarray(0, 12), data, fmt]);
  t.throws(() => readWav(swapped), /data chunk comes before any fmt chunk/);
});

const obama = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/media/audio/en_obama_5s.wav');
t.test('reads the Obama test clip', { skip: existsSync(obama) ? false : `test audio missing: ${obama}` }, async (t) => {
  const wav = readWav(readFileSync(obama), 'en_obama_5s.wav');
  t.equal(wav.sampleRate, 16000);
  t.ok(Math.abs(wav.samples.length / wav.sampleRate - 5) < 0.1, `${wav.samples.length / wav.sampleRate} s`);
  const rms = Math.sqrt(wav.samples.reduce((a, v) => a + v * v, 0) / wav.samples.length);
  t.ok(rms > 0.01 && rms < 0.5, `speech level, rms ${rms}`);
  t.ok(wav.samples.every((v) => v >= -1 && v <= 1));
});
