// @splatcast/client-sdk: the browser entry (ESM). connect() opens a session; the AvatarClient it returns shows the
// avatar (attach), takes the microphone or pushed PCM, interrupts, and emits typed events.
export { AvatarClient, type ClientEvents, type ConnectOptions, connect, type Stats } from './client.js';
export { ErrorCode, SplatcastError } from './errors.js';
export { DefaultReconnectPolicy, type ReconnectContext, type ReconnectPolicy } from './reconnect-policy.js';
export { SDK_NAME, SDK_VERSION } from './version.js';
