import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { FeatureWindow, VIDEO_FPS } from '../audio/feature-window.js';
import { LogMelStream } from '../audio/log-mel.js';
import { readWavAt16k } from '../audio/wav.js';
import { chooseDevice, type DeviceRequest } from '../device.js';
import { loadIdentity } from '../identity/package.js';
import { startMp4Writer } from '../media/mp4-writer.js';
import { audioWindowsAt } from '../render/audio-windows.js';
import { DeviceIdentity } from '../render/device-identity.js';
import { trackFrameAt } from '../render/frame-request.js';
import { Renderer } from '../render/renderer.js';

const USAGE =
  'usage: splatcast render --identity DIR --audio SPEECH.wav --out OUT.mp4 [--device auto|cpu|cuda] [--size WxH] [--batch 8]';

export async function renderCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      identity: { type: 'string' },
      audio: { type: 'string' },
      out: { type: 'string' },
      device: { type: 'string', default: 'auto' },
      size: { type: 'string' },
      batch: { type: 'string', default: '8' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || !values.identity || !values.audio || !values.out) {
    console.log(USAGE);
    if (!values.help) process.exitCode = 2;
    return;
  }
  const batch = Number(values.batch);
  if (!Number.isInteger(batch) || batch < 1 || batch > 128)
    throw new Error(`--batch must be 1..128, got "${values.batch}"`);
  const identity = await loadIdentity(values.identity);
  const size = values.size ? parseSize(values.size) : undefined;
  const choice = chooseDevice(values.device as DeviceRequest);
  console.error(`device: ${choice.device} (${choice.reason})`);

  const pcm = readWavAt16k(await readFile(values.audio), values.audio);
  const audio = identity.manifest.model.audio;
  if (audio.feature !== 'log-mel')
    throw new Error(`identity needs "${audio.feature}" audio features; render supports log-mel`);
  const mel = new LogMelStream();
  mel.push(pcm);
  mel.end();
  const features = new FeatureWindow(audio);
  while (mel.available > 0) features.append(mel.pull());
  features.end();
  const frames = Math.ceil((pcm.length / 16000) * VIDEO_FPS);
  if (frames === 0) throw new Error(`${values.audio} holds no audio`);

  const device = DeviceIdentity.upload(identity, choice.device, size);
  const renderer = new Renderer({ device: choice.device, width: device.width, height: device.height });
  const encoder = startMp4Writer({
    out: values.out,
    audio: values.audio,
    width: device.width,
    height: device.height,
    pixels: 'yuv420p',
  });
  const started = performance.now();
  try {
    for (let first = 0; first < frames; first += batch) {
      const requests = [];
      for (let t = first; t < Math.min(frames, first + batch); t++)
        requests.push({
          identity: device,
          trackFrame: trackFrameAt(t, device.tracks.frames),
          audioWindows: audioWindowsAt(features, t),
        });
      const { i420 } = renderer.renderBatch(requests);
      for (const frame of i420) await encoder.write(frame);
      const done = Math.min(frames, first + batch);
      const fps = done / ((performance.now() - started) / 1000);
      process.stderr.write(
        `\rrendered ${done}/${frames} frames (${fps.toFixed(1)} fps, ETA ${((frames - done) / fps).toFixed(0)} s)   `,
      );
    }
    process.stderr.write('\n');
    await encoder.close();
  } catch (error) {
    encoder.abort();
    throw error;
  } finally {
    renderer.dispose();
    device.dispose();
  }
  console.log(
    `wrote ${values.out}: ${frames} frames at ${device.width}x${device.height}, ${VIDEO_FPS} fps, with audio`,
  );
}

function parseSize(text: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/.exec(text);
  if (!m) throw new Error(`--size must look like 512x512, got "${text}"`);
  return { width: Number(m[1]), height: Number(m[2]) };
}
