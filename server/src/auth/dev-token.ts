// Development tokens: what `npm start` logs and the demo page fetches, so that a laptop can stream without the admin
// API. The same claims the admin API mints (src/admin/token-minter.ts), signed with the same secret. Never enable
// auth.devToken on a server others can reach: anyone who can load /dev/token can open sessions.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { CAPABILITIES } from './token-verifier.js';

export interface DevTokenOptions {
  secret: string;
  issuer: string;
  audience: string;
  ttlSeconds?: number;
}

export async function mintDevToken(o: DevTokenOptions, identityId: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ idn: identityId, cap: [...CAPABILITIES] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(o.issuer)
    .setAudience(o.audience)
    .setSubject('dev')
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + (o.ttlSeconds ?? 12 * 3600))
    .setJti(randomUUID())
    .sign(new TextEncoder().encode(o.secret));
}
