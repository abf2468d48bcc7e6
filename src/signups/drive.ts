import type { SignupRecord } from './signup.types';

/**
 * Lease time beyond a drive's deadline. No Capa call outlives the deadline, but recording the last attempt and settling
 * may each wait for a pooled connection (up to 5 s: PrismaService's connectionTimeoutMillis): the lease must outlast both.
 */
export const LEASE_MARGIN_MS = 15_000;

/** A drive in progress in this process: what shutdown waits for, aborts at the cut-off, and whose lease it releases. */
export interface Drive {
  done: Promise<SignupRecord>;
  abort: AbortController;
  /** Between the decision to call Capa and the gateway's answer: while true, the lease must not be let go. */
  calling: boolean;
  /**
   * The row was inserted by this drive's request a moment ago: it belongs to no import (no cancel can withdraw it) and
   * nobody else can hold its lease yet, so the drive calls Capa without first marking the call started.
   */
  inserted: boolean;
}

/** What the drain came to. */
export interface DrainResult {
  /** Drives that ended by themselves within the grace period. */
  finished: number;
  /** Drives cut off: their Capa call aborted, ended, and their lease released. */
  cutOff: number;
  /** Cut-off drives whose call did not end in time: their lease is left to expire, never handed over mid-call. */
  stillCalling: number;
}
