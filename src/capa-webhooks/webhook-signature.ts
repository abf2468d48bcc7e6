import { createHmac, timingSafeEqual } from 'node:crypto';

/** Capa's header: lower-case hex HMAC-SHA256 of the payload with the partner's webhook secret. */
export const SIGNATURE_HEADER = 'capa-signature';
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

export function signCapaPayload(payload: Buffer | string, secret: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

/**
 * Whether `signature` is Capa's signature of `raw` under any of `secrets` (several during a rotation). Capa's docs
 * never say "raw body" and their sample signs JSON.stringify(payload), so the raw bytes are tried first and then
 * the body re-serialised. Every secret and both readings are compared, in constant time, whatever matches first.
 */
export function verifyCapaSignature(raw: Buffer, signature: string | string[] | undefined, secrets: readonly string[]): boolean {
  if (typeof signature !== 'string' || !SHA256_HEX.test(signature.trim()) || secrets.length === 0) return false;
  const presented = Buffer.from(signature.trim().toLowerCase(), 'hex');
  const payloads: Array<Buffer | string> = [raw];
  const reserialised = reserialise(raw);
  if (reserialised !== undefined && reserialised !== raw.toString('utf8')) payloads.push(reserialised);
  let matched = false;
  for (const secret of secrets) {
    for (const payload of payloads) {
      const expected = createHmac('sha256', secret).update(payload).digest();
      // timingSafeEqual throws on unequal lengths; both are 32 bytes here, but the check keeps that explicit.
      if (expected.length === presented.length && timingSafeEqual(expected, presented)) matched = true;
    }
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
