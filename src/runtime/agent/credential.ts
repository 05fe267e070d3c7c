// Per-agent credentials for sample pushes. The shared bearer token lets a caller in; the credential
// says which member it is: an HMAC-SHA256 of the agent id under the fleet token, sent in the
// x-inferline-credential header beside the agentId of the body. The leader recomputes it and
// refuses (403) a push whose id is not a live member or whose credential does not match, so a
// caller cannot push samples under an id that is not its own without deliberately deriving it.
// (Whoever holds the fleet token can derive every credential: separating agents from one another
// needs per-agent secrets or mTLS, see docs/fleet-safety.md.)
import { createHmac, timingSafeEqual } from 'node:crypto';

export const CREDENTIAL_HEADER = 'x-inferline-credential';

export function agentCredential(fleetToken: string, agentId: string): string {
  return createHmac('sha256', fleetToken).update(`inferline-agent\u0000${agentId}`).digest('base64url');
}

/** Constant-time comparison with the credential `agentId` should present. */
export function credentialMatches(fleetToken: string, agentId: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  const want = Buffer.from(agentCredential(fleetToken, agentId));
  const got = Buffer.from(given);
  return got.length === want.length && timingSafeEqual(got, want);
}
