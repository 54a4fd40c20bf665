// Client tokens: short-lived HS256 JWTs (jose) that let a browser or an agent open a streaming session with one
// identity and a set of capabilities. The streaming server's verifier checks the same claims (docs/admin-api.md).
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';

export const CAPABILITIES = ['session', 'audio', 'interrupt'] as const;
export type Capability = (typeof CAPABILITIES)[number];

export interface MintRequest {
  identityId: string;
  capabilities: Capability[];
  ttlSeconds: number;
  /** Who the token is for (the integrator's user id); `anonymous` when not given. */
  subject?: string;
}

export interface MintedToken {
  token: string;
  tokenId: string;
  expiresAt: string;
}

export class TokenMinter {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    private readonly issuer: string,
    private readonly audience: string,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  async mint(request: MintRequest): Promise<MintedToken> {
    const tokenId = randomUUID();
    const now = Math.floor(Date.now() / 1000);
    const exp = now + request.ttlSeconds;
    const token = await new SignJWT({ idn: request.identityId, cap: request.capabilities })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(this.issuer)
      .setAudience(this.audience)
      .setSubject(request.subject ?? 'anonymous')
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(exp)
      .setJti(tokenId)
      .sign(this.key);
    return { token, tokenId, expiresAt: new Date(exp * 1000).toISOString() };
  }
}
