/** Capa redelivers a failed webhook for ~31 minutes; an identical non-KYC body within this window is the same event. */
export const DUPLICATE_WINDOW_MS = 60 * 60 * 1000;

/** What the inbox already holds that a new delivery could duplicate. */
export interface EarlierDeliveries {
  /** SHA-256 of the latest KYC body received for the same user (KYC deliveries only), if any. */
  latestKycSha256?: string | null;
  /** Whether a body with the same SHA-256 was received within DUPLICATE_WINDOW_MS (other types). */
  identicalWithinWindow?: boolean;
}

/**
 * A KYC delivery is a duplicate when its body is identical to the latest KYC body received for that user: a user
 * rejected, retried and rejected again sends the same bytes twice, with another event between them. Any other
 * delivery is a duplicate when an identical body was received in the last hour (no event id is sent or signed).
 */
export function isDuplicateDelivery(type: string, sha256: string, earlier: EarlierDeliveries): boolean {
  if (type === 'KYC') return earlier.latestKycSha256 === sha256;
  return earlier.identicalWithinWindow === true;
}
