// End to end in real headless Chromium (Debian's chromium, driven by playwright-core): the demo page connects with
// the browser SDK, gets the avatar's video track, decodes it at 256x256 from the CPU engine, the mouth region of a
// trained identity changes when speech plays, interrupt stops it, and Chromium's fake microphone (a speech wav) drives
// the avatar too. Skips when Chromium or the shared media are absent.
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import t from 'tap';
import { startServer } from '../helpers/streaming.js';
import { noTrainingClip, trainedStillIdentity } from '../helpers/trained-identity.js';

// What the demo page puts on window, and the probes this test adds there (typed here, used inside page.evaluate).
interface DemoEvent {
  event: string;
  detail: { interrupted?: boolean; positionMs?: number };
}
interface DemoWindow {
  splatcast: { state: string; events: DemoEvent[]; client: { interrupt(): void } };
  mouth: () => number[];
  crops: (n: number) => Promise<number[][]>;
}

const CHROMIUM = '/usr/bin/chromium';
const MEDIA = path.resolve(import.meta.dirname, '..', '..', '..', '..', 'shared', 'media', 'audio');
const MIC_WAV = path.join(MEDIA, 'en_radio31_8s.wav');
const SPEECH_WAV = path.join(MEDIA, 'en_obama_5s.wav');
export const SCREENSHOT = path.join(tmpdir(), 'splatcast-e2e-speaking.png');

if (!existsSync(CHROMIUM)) t.skip(`no ${CHROMIUM}: scripts/setup-system.sh installs Debian's chromium`);
else if (!existsSync(MIC_WAV) || !existsSync(SPEECH_WAV)) t.skip(`no shared speech in ${MEDIA}`);
else if (noTrainingClip()) t.skip(noTrainingClip());
else await run();

/** 16-bit PCM wav → its first channel as Int16 samples, and the rate. */
function readWav(file: string): { samples: number[]; rate: number } {
  const b = readFileSync(file);
  let at = 12;
  let rate = 0;
  let channels = 1;
  while (at + 8 <= b.length) {
    const id = b.toString('ascii', at, at + 4);
    const size = b.readUInt32LE(at + 4);
    if (id === 'fmt ') {
      channels = b.readUInt16LE(at + 10);
      rate = b.readUInt32LE(at + 12);
    } else if (id === 'data') {
      const samples: number[] = [];
      for (let i = at + 8; i + 2 * channels <= at + 8 + size; i += 2 * channels) samples.push(b.readInt16LE(i));
      return { samples, rate };
    }
    at += 8 + size + (size % 2);
  }
  throw new Error(`${file}: no data chunk`);
}

async function run(): Promise<void> {
  const auth = { secret: 'a-test-secret-of-at-least-32-characters!', devToken: true };
  // Training the identity takes about 1.5 min of the CPU; the browser part about as long.
  t.setTimeout(10 * 60_000);
  const started = performance.now();
  const identity = await trainedStillIdentity(t);
  t.comment(`trained the test identity in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const server = await startServer(t, { auth }, { width: 256, height: 256 }, identity);
  // playwright gives every launch a fresh temporary profile (the --user-data-dir the machine notes ask for).
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${MIC_WAV}`,
      '--allow-loopback-in-peer-connection',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`http://127.0.0.1:${server.port}/`);
  await page.waitForFunction(() => (document.querySelector('#identity') as HTMLSelectElement).options.length > 0);
  await page.click('#connect');
  await page.waitForFunction(
    () => ['connected', 'failed'].includes((window as unknown as DemoWindow).splatcast.state),
    null,
    {
      timeout: 30000,
    },
  );

  // Mouth crops from the decoded video: grey values of a box under the head's centre.
  await page.evaluate(() => {
    const canvas = document.createElement('canvas');
    canvas.width = 256;
    canvas.height = 256;
    (window as unknown as DemoWindow).mouth = () => {
      const ctx = canvas.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D;
      ctx.drawImage(document.querySelector('video') as HTMLVideoElement, 0, 0, 256, 256);
      const { data } = ctx.getImageData(100, 135, 56, 45);
      const grey: number[] = [];
      for (let i = 0; i < data.length; i += 4)
        grey.push(((data[i] as number) + (data[i + 1] as number) + (data[i + 2] as number)) / 3);
      return grey;
    };
    (window as unknown as DemoWindow).crops = async (n: number) => {
      const out: number[][] = [];
      for (let i = 0; i < n; i++) {
        out.push((window as unknown as DemoWindow).mouth());
        await new Promise((r) => setTimeout(r, 120));
      }
      return out;
    };
  });

  await t.test('the page gets the video track and decodes it at 256x256, at least 20 fps', async (t) => {
    t.equal(
      await page.evaluate(() => (window as unknown as DemoWindow).splatcast.state),
      'connected',
      await page.textContent('#status'),
    );
    await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement).videoWidth > 0, null, {
      timeout: 20000,
    });
    const size = await page.evaluate(() => {
      const v = document.querySelector('video') as HTMLVideoElement;
      return { w: v.videoWidth, h: v.videoHeight, video: (v.srcObject as MediaStream).getVideoTracks().length };
    });
    t.same(size, { w: 256, h: 256, video: 1 });
    const frames = () =>
      page.evaluate(
        () => (document.querySelector('video') as HTMLVideoElement).getVideoPlaybackQuality().totalVideoFrames,
      );
    await page.waitForTimeout(1000);
    const f0 = await frames();
    const t0 = performance.now();
    await page.waitForTimeout(4000);
    const fps = ((await frames()) - f0) / ((performance.now() - t0) / 1000);
    t.comment(`decoded ${fps.toFixed(1)} frames/s`);
    t.ok(fps >= 20, `at least 20 decoded frames/s (${fps.toFixed(1)})`);
  });

  await t.test('the mouth region changes between silence and speech; interrupt stops the speech', async (t) => {
    await page.screenshot({ path: SCREENSHOT.replace('speaking', 'silent') });
    const silence: number[][] = await page.evaluate(() => (window as unknown as DemoWindow).crops(8));
    const { samples, rate } = readWav(SPEECH_WAV);
    await page.evaluate(
      ({ samples, rate }) => {
        const s = (window as unknown as DemoWindow).splatcast;
        s.client.pushPcm(Int16Array.from(samples), rate);
        s.client.endSegment();
      },
      { samples, rate },
    );
    await page.waitForFunction(
      () => (window as unknown as DemoWindow).splatcast.events.some((e: DemoEvent) => e.event === 'speakingStarted'),
      null,
      {
        timeout: 10000,
      },
    );
    const speech: number[][] = await page.evaluate(() => (window as unknown as DemoWindow).crops(8));
    await page.screenshot({ path: SCREENSHOT });
    t.comment(`screenshot while speaking: ${SCREENSHOT}`);
    // Mean absolute grey difference of two crops; the head is still, so idle crops differ only by codec noise.
    const d = (a: number[], b: number[]) => a.reduce((sum, v, i) => sum + Math.abs(v - (b[i] as number)), 0) / a.length;
    const spread = (xs: number[][], ys: number[][]) => {
      const ds = xs.flatMap((x) => ys.filter((y) => y !== x).map((y) => d(x, y)));
      return ds.reduce((a, b) => a + b, 0) / ds.length;
    };
    const session0 = server.sessions.sessions[0];
    t.comment(
      `stream: ${JSON.stringify(session0?.mediaSession?.avatarStream?.counters)}, bitrate target ${session0?.stats.bitrateTarget}`,
    );
    const within = spread(silence, silence);
    const across = spread(silence, speech);
    t.comment(`mouth box: ${within.toFixed(2)} grey levels between idle frames, ${across.toFixed(2)} idle to speech`);
    t.ok(across > 2 * within + 0.3, 'speech changes the mouth region beyond idle frame-to-frame noise');

    await page.evaluate(() => (window as unknown as DemoWindow).splatcast.client.interrupt());
    await page.waitForFunction(
      () =>
        (window as unknown as DemoWindow).splatcast.events.some(
          (e: DemoEvent) => e.event === 'playbackFinished' && e.detail.interrupted,
        ),
      null,
      { timeout: 5000 },
    );
    await page.waitForFunction(
      () => (window as unknown as DemoWindow).splatcast.events.some((e: DemoEvent) => e.event === 'speakingStopped'),
      null,
      {
        timeout: 5000,
      },
    );
    const position = await page.evaluate(
      () =>
        (window as unknown as DemoWindow).splatcast.events.find((e: DemoEvent) => e.event === 'playbackFinished')
          ?.detail.positionMs,
    );
    t.ok(position !== undefined && position < 5000, `interrupted ${position} ms into a 5 s segment`);
    const session = server.sessions.sessions[0];
    t.ok(session?.stats.lastInterruptMs !== undefined, 'the server measured the interrupt');
    t.comment(`interrupt to the first idle frame sent: ${session?.stats.lastInterruptMs?.toFixed(1)} ms (server side)`);
  });

  await t.test("Chromium's fake microphone (a speech wav) drives the avatar", async (t) => {
    const before = await page.evaluate(
      () =>
        (window as unknown as DemoWindow).splatcast.events.filter((e: DemoEvent) => e.event === 'speakingStarted')
          .length,
    );
    await page.click('#mic');
    await page.waitForFunction(
      (n) =>
        (window as unknown as DemoWindow).splatcast.events.filter((e: DemoEvent) => e.event === 'speakingStarted')
          .length > n,
      before,
      { timeout: 15000 },
    );
    const mic = server.sessions.sessions[0]?.mediaSession;
    t.ok(mic?.microphoneActive, 'the server consumes the microphone');
    t.pass('speech from the microphone made the avatar speak');
  });

  t.same(errors, [], 'no page errors');
}
