// The streaming server's token check against what the admin API mints (the same claims, the same secret).
import { SignJWT } from 'jose';
import t from 'tap';
import { TokenMinter } from '../../src/admin/token-minter.js';
import { JwtTokenVerifier, TokenError } from '../../src/auth/token-verifier.js';

const secret = 'x'.repeat(40);
const verifier = new JwtTokenVerifier({ secret, issuer: 'splatcast-admin', audience: 'splatcast-stream' });

t.test('a token the admin API mints is accepted with its identity, capabilities and subject', async (t) => {
  const minter = new TokenMinter(secret, 'splatcast-admin', 'splatcast-stream');
  const minted = await minter.mint({
    identityId: 'idn_0123456789abcdef0123',
    capabilities: ['session', 'audio'],
    ttlSeconds: 60,
    subject: 'user-7',
  });
  const verified = await verifier.verify(minted.token);
  t.equal(verified.identityId, 'idn_0123456789abcdef0123');
  t.same([...verified.capabilities].sort(), ['audio', 'session']);
  t.equal(verified.subject, 'user-7');
  t.equal(verified.tokenId, minted.tokenId);
  t.equal(verified.expiresAt.toISOString(), minted.expiresAt);
});

t.test('wrong secret, issuer, audience, algorithm or claims are refused', async (t) => {
  const key = (s: string) => new TextEncoder().encode(s);
  const base = (alg = 'HS256') =>
    new SignJWT({ idn: 'fixture', cap: ['session'] })
      .setProtectedHeader({ alg })
      .setIssuer('splatcast-admin')
      .setAudience('splatcast-stream')
      .setIssuedAt()
      .setExpirationTime('1m')
      .setJti('j');
  await t.rejects(verifier.verify(await base().sign(key('y'.repeat(40)))), TokenError, 'another secret');
  await t.rejects(verifier.verify(await base().setIssuer('mallory').sign(key(secret))), TokenError, 'another issuer');
  await t.rejects(verifier.verify(await base().setAudience('admin').sign(key(secret))), TokenError, 'another audience');
  await t.rejects(verifier.verify(await base('HS512').sign(key(secret))), TokenError, 'another algorithm');
  const noIdentity = await new SignJWT({ cap: ['session'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('splatcast-admin')
    .setAudience('splatcast-stream')
    .setExpirationTime('1m')
    .setJti('j')
    .sign(key(secret));
  await t.rejects(verifier.verify(noIdentity), { reason: 'invalid', message: /idn/ }, 'no identity claim');
  const expired = await base()
    .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
    .sign(key(secret));
  await t.rejects(verifier.verify(expired), { reason: 'expired' });
  await t.rejects(verifier.verify('a.b.c'), { reason: 'invalid' });
  t.throws(() => new JwtTokenVerifier({ secret: 'short', issuer: 'i', audience: 'a' }), 'a short secret');
});
