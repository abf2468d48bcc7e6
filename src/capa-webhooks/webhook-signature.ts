import { createHmac, timingSafeEqual } from 'node:crypto';

/** Capa's header: lower-case hex HMAC-SHA256 of the payload with the partner's webhook secret. */
export const SIGNATURE_HEADER = 'capa-signature';
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

export function signCapaPayload(payload: Buffer | string, secret: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

/**
 * Which bytes a valid signature covered: the raw body, or its re-serialised form (`canonical`, the text that was
 * signed: the inbox keys duplicates on it, so re-spaced copies of one delivery are one delivery).
 */
export type VerifiedPayload = { form: 'raw' } | { form: 'canonical'; canonical: string };

/**
 * Which form of `raw` `signature` is Capa's signature of under any of `secrets` (several during a rotation), or null.
 * Capa's docs never say "raw body" and their sample signs JSON.stringify(payload), so the raw bytes are tried first;
 * only when they fail is the body parsed and re-serialised (never a parse for a body whose raw bytes are signed).
 * Every secret is compared for a form, in constant time, whatever matches first.
 */
export function verifyCapaSignature(raw: Buffer, signature: string | string[] | undefined, secrets: readonly string[]): VerifiedPayload | null {
  if (typeof signature !== 'string' || !SHA256_HEX.test(signature.trim()) || secrets.length === 0) return null;
  const presented = Buffer.from(signature.trim().toLowerCase(), 'hex');
  if (signedByAny(raw, presented, secrets)) return { form: 'raw' };
  const canonical = reserialise(raw);
  if (canonical === undefined || canonical === raw.toString('utf8')) return null;
  return signedByAny(canonical, presented, secrets) ? { form: 'canonical', canonical } : null;
}

function signedByAny(payload: Buffer | string, presented: Buffer, secrets: readonly string[]): boolean {
  let matched = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(payload).digest();
    // timingSafeEqual throws on unequal lengths; both are 32 bytes here, but the check keeps that explicit.
    if (expected.length === presented.length && timingSafeEqual(expected, presented)) matched = true;
  }
  return matched;
}

/** JSON.stringify(JSON.parse(raw)), as Capa's sample signs it; undefined when the body is not JSON. */
function reserialise(raw: Buffer): string | undefined {
  try {
    return JSON.stringify(JSON.parse(raw.toString('utf8')));
  } catch {
    return undefined;
  }
}
