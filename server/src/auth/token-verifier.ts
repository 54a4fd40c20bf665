// Client tokens as the streaming server checks them: HS256 JWTs minted by the admin API (src/admin/token-minter.ts)
// with the claims documented in proto/README.md ("Client tokens"): iss, aud, sub, exp, nbf, iat, jti, plus
// `idn` (the identity the token opens) and `cap` (what the holder may do).
import { errors, jwtVerify } from 'jose';

export const CAPABILITIES = ['session', 'audio', 'interrupt'] as const;
export type Capability = (typeof CAPABILITIES)[number];

export interface VerifiedToken {
  identityId: string;
  capabilities: ReadonlySet<Capability>;
  /** The integrator's user id (`anonymous` when the token names none). */
  subject: string;
  tokenId: string;
  expiresAt: Date;
}

export class TokenError extends Error {
  override name = 'TokenError';
  constructor(
    /** expired: get a new token; invalid: the token is wrong (signature, claims, audience). */
    readonly reason: 'expired' | 'invalid',
    message: string,
  ) {
    super(message);
  }
}

/** What the signalling layer needs: a token in, who may do what out (or a TokenError). */
export interface TokenVerifier {
  verify(token: string): Promise<VerifiedToken>;
}

export interface JwtVerifierOptions {
  secret: string;
  issuer: string;
  audience: string;
  /** Clock skew tolerated, seconds (default 5). */
  clockToleranceSeconds?: number;
}

export class JwtTokenVerifier implements TokenVerifier {
  private readonly key: Uint8Array;

  constructor(private readonly options: JwtVerifierOptions) {
    if (options.secret.length < 32) throw new Error('JwtTokenVerifier: the secret needs at least 32 characters');
    this.key = new TextEncoder().encode(options.secret);
  }

  async verify(token: string): Promise<VerifiedToken> {
    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
    try {
      ({ payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTolerance: this.options.clockToleranceSeconds ?? 5,
        requiredClaims: ['exp', 'jti'],
      }));
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw new TokenError('expired', 'the token has expired');
      throw new TokenError('invalid', `the token is not valid: ${(error as Error).message}`);
    }
    const { idn, cap, sub, jti, exp } = payload as Record<string, unknown>;
    if (typeof idn !== 'string' || idn.length === 0 || idn.length > 128)
      throw new TokenError('invalid', 'the token has no identity (claim "idn")');
    if (!Array.isArray(cap) || !cap.every((c) => typeof c === 'string'))
      throw new TokenError('invalid', 'the token has no capability list (claim "cap")');
    const known = cap.filter((c): c is Capability => (CAPABILITIES as readonly string[]).includes(c));
    return {
      identityId: idn,
      capabilities: new Set(known),
      subject: typeof sub === 'string' ? sub : 'anonymous',
      tokenId: jti as string,
      expiresAt: new Date((exp as number) * 1000),
    };
  }
}
