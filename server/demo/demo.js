// The demo page: pick an identity, get a development token from the server (/dev/token, only in dev mode), connect
// with the SDK, drive the avatar with the microphone or a synthetic sample, interrupt, and watch latency and FPS.
import { connect } from '/sdk/splatcast.js';

const $ = (id) => document.getElementById(id);
const video = $('avatar');
let client;
let identities = [];
let micOn = false;
window.splatcast = { state: 'idle', events: [] };

function status(text) {
  $('status').textContent = text;
}

function log(event, detail) {
  window.splatcast.events.push({ event, detail, at: performance.now() });
}

async function loadIdentities() {
  const res = await fetch('/dev/identities');
  if (!res.ok) {
    status('development mode is off: open a session with a token from your backend (see the SDK README)');
    return;
  }
  identities = await res.json();
  $('identity').replaceChildren(
    ...identities.map((i) => new Option(`${i.name}${i.fixture ? ' (fixture)' : ''}`, i.id)),
  );
  showFixtureNote();
}

function showFixtureNote() {
  const chosen = identities.find((i) => i.id === $('identity').value);
  $('fixture-note').hidden = !chosen?.fixture;
}

function setConnected(on) {
  $('connect').disabled = on;
  $('disconnect').disabled = !on;
  for (const id of ['mic', 'sample', 'interrupt']) $(id).disabled = !on;
}

/** A speech-like test signal (voiced harmonics with syllable-rate bursts), 16 kHz. */
function sample(seconds) {
  const rate = 16000;
  const pcm = new Float32Array(seconds * rate);
  for (let i = 0; i < pcm.length; i++) {
    const t = i / rate;
    const syllable = Math.max(0, Math.sin(2 * Math.PI * 3.2 * t)) ** 0.6;
    const pitch = 140 + 30 * Math.sin(2 * Math.PI * 0.7 * t);
    let v = 0;
    for (let h = 1; h <= 8; h++) v += Math.sin(2 * Math.PI * pitch * h * t) / h;
    pcm[i] = 0.3 * syllable * v;
  }
  return pcm;
}

async function start() {
  const identityId = $('identity').value;
  status('connecting…');
  window.splatcast.state = 'connecting';
  try {
    const { token } = await (await fetch(`/dev/token?identity=${encodeURIComponent(identityId)}`)).json();
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/v1/stream`;
    client = await connect({ url, token, identityId });
  } catch (error) {
    status(`could not connect: ${error.message}`);
    window.splatcast.state = 'failed';
    return;
  }
  client.attach(video);
  client.on('speakingStarted', () => {
    $('speaking').textContent = 'speaking';
    log('speakingStarted');
  });
  client.on('speakingStopped', (e) => {
    $('speaking').textContent = '';
    log('speakingStopped', e);
  });
  client.on('playbackFinished', (e) => log('playbackFinished', e));
  client.on('reconnecting', (e) => status(`reconnecting (attempt ${e.attempt})…`));
  client.on('ready', () => status(`connected: session ${client.sessionId}`));
  client.on('error', (e) => log('error', { code: e.codeName, message: e.message }));
  client.on('closed', (e) => {
    status(`closed: ${e.reason}`);
    setConnected(false);
    window.splatcast.state = 'closed';
  });
  client.on('stats', (s) => {
    const quality = video.getVideoPlaybackQuality?.();
    $('stats').textContent =
      `server: ${s.fps.toFixed(1)} fps, audio→frame p50 ${s.latencyMsP50} ms p95 ${s.latencyMsP95} ms, ` +
      `${(s.videoBitrateBps / 1000).toFixed(0)} kb/s, rtt ${s.rttMs ?? '?'} ms\n` +
      `page: ${video.videoWidth}x${video.videoHeight}, ${quality ? `${quality.totalVideoFrames} frames decoded` : ''} ` +
      `(lookahead ${client.config?.lookaheadMs} ms)`;
    log('stats', s);
  });
  status(`connected: session ${client.sessionId}`);
  setConnected(true);
  window.splatcast.state = 'connected';
  window.splatcast.client = client;
}

$('identity').addEventListener('change', showFixtureNote);
$('connect').addEventListener('click', start);
$('disconnect').addEventListener('click', () => client?.close());
$('sample').addEventListener('click', () => {
  video.muted = false;
  client.pushPcm(sample(4), 16000);
  client.endSegment();
});
$('interrupt').addEventListener('click', () => client.interrupt());
$('mic').addEventListener('click', async () => {
  if (micOn) {
    await client.stopMicrophone();
    $('mic').textContent = 'Talk (microphone)';
  } else {
    // Your own voice would come back from the avatar: mute its speech while the microphone drives it.
    video.muted = true;
    await client.startMicrophone();
    $('mic').textContent = 'Stop microphone';
  }
  micOn = !micOn;
});
loadIdentities();
