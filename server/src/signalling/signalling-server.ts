// The signalling endpoint: WebSocket upgrades on STREAM_PATH with subprotocol splatcast.v1 become Connections.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WS_SUBPROTOCOL } from '@splatcast/proto';
import { WebSocketServer } from 'ws';
import type { StreamingConfig } from '../config.js';
import type { SessionManager } from '../session/session-manager.js';
import type { MediaWorkerPool } from '../sfu/media-worker-pool.js';
import { Connection } from './connection.js';

export const STREAM_PATH = '/v1/stream';

export class SignallingServer {
  private readonly wss: WebSocketServer;
  private capabilitiesJson: string | undefined;

  constructor(
    server: Server,
    private readonly manager: SessionManager,
    private readonly media: MediaWorkerPool,
    private readonly config: StreamingConfig,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      // Frames beyond the protocol's limit are cut by ws before they are buffered (close 1009).
      maxPayload: config.sessions.maxMessageBytes + 1024,
      handleProtocols: (protocols) => (protocols.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
    });
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      if (url.pathname !== STREAM_PATH) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
        return;
      }
      const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
      if (!offered.includes(WS_SUBPROTOCOL)) {
        socket.end(`HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\nsubprotocol ${WS_SUBPROTOCOL} required\n`);
        return;
      }
      this.wss.handleUpgrade(request, socket, head, (ws) => {
        new Connection(ws, this.manager, this.config, { rtpCapabilitiesJson: () => this.rtpCapabilitiesJson() });
      });
    });
  }

  get clients(): number {
    return this.wss.clients.size;
  }

  close(): void {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
  }

  private rtpCapabilitiesJson(): string {
    this.capabilitiesJson ??= JSON.stringify(this.media.rtpCapabilities);
    return this.capabilitiesJson;
  }
}
