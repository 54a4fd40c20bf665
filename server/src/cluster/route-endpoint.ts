// GET /v1/route: where a client should open (or resume) its session. The client (or the integrator's backend)
// asks any node with its session token and, when resuming, its session id; the answer is the signalling URL of the
// node holding that session, or of the best node for a new one (node-registry.ts). A lone node without the
// registry answers with itself, so clients can always ask first.
//   GET /v1/route?session=SESSION_ID   Authorization: Bearer <client token>   →  {"url", "nodeId", "reason"}
import type { IncomingMessage } from 'node:http';
import { TokenError, type TokenVerifier } from '../auth/token-verifier.js';
import type { NodeRegistry } from './node-registry.js';

export interface RouteAnswer {
  status: number;
  body: Record<string, unknown>;
}

export interface RouteEndpointOptions {
  verifier: TokenVerifier;
  registry: NodeRegistry | undefined;
  self: { nodeId: string; url: string };
}

const SESSION_ID = /^[\w-]{1,128}$/;

export async function answerRoute(o: RouteEndpointOptions, url: URL, req: IncomingMessage): Promise<RouteAnswer> {
  const header = req.headers.authorization ?? '';
  const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? url.searchParams.get('token') ?? '';
  if (!token) return { status: 401, body: { error: 'a client token is needed (Authorization: Bearer …)' } };
  let identityId: string;
  try {
    identityId = (await o.verifier.verify(token)).identityId;
  } catch (error) {
    const message = error instanceof TokenError ? error.message : 'the token could not be checked';
    return { status: 401, body: { error: message } };
  }
  const session = url.searchParams.get('session') ?? '';
  if (session && !SESSION_ID.test(session)) return { status: 400, body: { error: 'session: not a session id' } };
  if (!o.registry) return { status: 200, body: { ...o.self, reason: 'single-node' } };
  const route = await o.registry.route({ identityId, ...(session ? { sessionId: session } : {}) });
  if (!route) return { status: 503, body: { error: 'no node takes new sessions now; retry shortly' } };
  return { status: 200, body: { ...route } };
}
