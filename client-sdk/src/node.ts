// @splatcast/client-sdk/node: the entry for agents in Node. Same client, WebSocket from `ws`; by default no media
// (push PCM, follow the events). With `video: true` the avatar's tracks are received through @roamhq/wrtc (an
// optional dependency: libwebrtc prebuilt in npm), whose RTCPeerConnection mediasoup-client then uses.
import WebSocket from 'ws';
import { type AvatarClient, type ConnectOptions, connect as connectClient } from './client.js';
import type { WebSocketLike } from './signalling.js';

export * from './index.js';

export interface NodeConnectOptions extends Omit<ConnectOptions, 'WebSocket' | 'media' | 'createMedia'> {
  /** Receive the avatar's video and speech (needs @roamhq/wrtc installed). */
  video?: boolean;
}

export async function connect(options: NodeConnectOptions): Promise<AvatarClient> {
  const { video, ...rest } = options;
  if (video) await installWrtc();
  return connectClient({
    ...rest,
    WebSocket: WebSocket as unknown as WebSocketLike,
    media: video ?? false,
    // Node has no user agent for mediasoup-client to pick its handler by; @roamhq/wrtc is libwebrtc, as in Chrome.
    createMedia: async (signalling, capabilities, forceTcp) =>
      (await import('./media.js')).MediaLink.create(signalling, capabilities, forceTcp, 'Chrome111'),
    platform: `node ${process.version}`,
  });
}

/** Puts @roamhq/wrtc's WebRTC classes where mediasoup-client looks for them. */
async function installWrtc(): Promise<void> {
  let wrtc: Record<string, unknown>;
  try {
    const name = '@roamhq/wrtc';
    wrtc = ((await import(name)) as { default: Record<string, unknown> }).default;
  } catch (error) {
    throw new Error(`video in Node needs @roamhq/wrtc (npm install @roamhq/wrtc): ${(error as Error).message}`);
  }
  const g = globalThis as Record<string, unknown>;
  for (const name of [
    'RTCPeerConnection',
    'RTCSessionDescription',
    'RTCIceCandidate',
    'MediaStream',
    'MediaStreamTrack',
  ])
    g[name] ??= wrtc[name];
}
