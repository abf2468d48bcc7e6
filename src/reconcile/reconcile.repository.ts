import { Injectable } from '@nestjs/common';
import { PrismaService } from '../persistence/prisma.service';
import { runInTransaction } from '../persistence/transaction';
import { MAX_MANUAL_RETRIES, RETRY_CALLS_PER_WINDOW, RETRY_PAUSE_SECS, RETRY_WINDOW_SECS } from './reconcile-rules';

/** An announced redelivery that never came is forgotten after an hour (the duplicate window). */
const EXPECTATION_TTL_SECS = 3600;

/** The totals of GET /admin/reconciliation, kept in the database (all replicas, since it was created). */
export interface ReconcileTotals {
  lastRunAt: Date | null;
  lastError: string | null;
  seen: number;
  applied: number;
  duplicate: number;
  retried: number;
  retryRefused: number;
  polled: number;
}

export type ReconcileCounter = 'applied' | 'duplicate' | 'retried' | 'retryRefused' | 'polled';
const COUNTER_COLUMNS: Record<ReconcileCounter, string> = {
  applied: 'applied',
  duplicate: 'duplicate',
  retried: 'retried',
  retryRefused: 'retry_refused',
  polled: 'polled',
};

/** What the retry quota says for one notification: call now (`callId`), wait, or never again (3 retries used). */
export type RetrySlot = { kind: 'granted'; callId: string; expectationId: string | null } | { kind: 'wait'; waitMs: number } | { kind: 'exhausted' };

/** A user the poll fallback refreshes from Capa's details endpoint. */
export interface PollCandidate {
  signupId: bigint;
  externalUserId: string;
}

/** The reconciler's data: its lock, totals, the retry quota (by the database's clock) and the poll bookkeeping. */
@Injectable()
export class ReconcileRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Takes or renews the run lease for `owner` (one run), by the database's clock: granted when nobody holds it, the
   * holder's lease expired, or `owner` holds it already. Answers whether `owner` holds it now.
   */
  async takeLease(owner: string, leaseMs: number): Promise<boolean> {
    const { rowCount } = await this.prisma.pool.query(
      `UPDATE capa_reconcile_state SET lease_owner = $1, lease_until = now() + make_interval(secs => $2)
       WHERE id = 1 AND (lease_owner IS NULL OR lease_owner = $1 OR lease_until < now())`,
      [owner, leaseMs / 1000],
    );
    return rowCount === 1;
  }

  async releaseLease(owner: string): Promise<void> {
    await this.prisma.pool.query('UPDATE capa_reconcile_state SET lease_owner = NULL, lease_until = NULL WHERE id = 1 AND lease_owner = $1', [owner]);
  }

  async totals(): Promise<ReconcileTotals> {
    const { rows } = await this.prisma.pool.query<Record<string, unknown>>(
      `SELECT last_run_at AS "lastRunAt", last_error AS "lastError", seen, applied, duplicate, retried, retry_refused AS "retryRefused", polled
       FROM capa_reconcile_state WHERE id = 1`,
    );
    const row = rows[0] ?? {};
    const count = (name: string) => Number(row[name] ?? 0);
    return {
      lastRunAt: (row.lastRunAt as Date | null) ?? null,
      lastError: (row.lastError as string | null) ?? null,
      seen: count('seen'),
      applied: count('applied'),
      duplicate: count('duplicate'),
      retried: count('retried'),
      retryRefused: count('retryRefused'),
      polled: count('polled'),
    };
  }

  async finishRun(lastError: string | null): Promise<void> {
    await this.prisma.pool.query('UPDATE capa_reconcile_state SET last_run_at = now(), last_error = $1 WHERE id = 1', [lastError]);
  }

  async count(counter: ReconcileCounter, by = 1): Promise<void> {
    if (by === 0) return;
    const column = COUNTER_COLUMNS[counter];
    await this.prisma.pool.query(`UPDATE capa_reconcile_state SET ${column} = ${column} + $1 WHERE id = 1`, [by]);
  }

  /** Notes the FAILED ids listed; `seen` grows by those never listed before. */
  async markSeen(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.prisma.pool.query(
      `WITH added AS (INSERT INTO capa_notifications_seen (notification_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING RETURNING 1)
       UPDATE capa_reconcile_state SET seen = seen + (SELECT count(*) FROM added) WHERE id = 1`,
      [ids],
    );
  }

  /** Which of these notification ids the inbox holds already. */
  async takenIn(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const { rows } = await this.prisma.pool.query<{ id: string }>(
      'SELECT notification_id AS id FROM capa_webhook_inbox WHERE notification_id = ANY($1::text[])',
      [ids],
    );
    return new Set(rows.map((row) => row.id));
  }

  /**
   * Asks for one retry call of this notification within Capa's caps, by the database's clock: at most 10 calls in any
   * 62 s (all answers counted), none while a 429's pause lasts, never a 4th for one notification. A granted call is
   * logged at once, with the redelivery it will cause announced (the inbox entry's JSON value, for its user).
   */
  reserveRetry(notificationId: string): Promise<RetrySlot> {
    return runInTransaction(this.prisma.pool, async (tx) => {
      // Serialises reservations across replicas: the counts below are read after the lock, with a fresh snapshot.
      await tx.query('SELECT 1 FROM capa_reconcile_state WHERE id = 1 FOR UPDATE');
      const { rows } = await tx.query<{ used: string; recent: string; windowWaitMs: number | null; pauseWaitMs: number | null }>(
        `SELECT (SELECT count(*) FROM capa_notification_retry_calls WHERE notification_id = $1 AND outcome IS DISTINCT FROM 'refused') AS used,
                (SELECT count(*) FROM capa_notification_retry_calls WHERE called_at > now() - make_interval(secs => $2)) AS recent,
                (SELECT extract(epoch FROM (min(called_at) + make_interval(secs => $2) - now())) * 1000
                   FROM (SELECT called_at FROM capa_notification_retry_calls WHERE called_at > now() - make_interval(secs => $2)
                         ORDER BY called_at DESC LIMIT $3) AS newest) AS "windowWaitMs",
                (SELECT extract(epoch FROM (retry_paused_until - now())) * 1000 FROM capa_reconcile_state WHERE id = 1) AS "pauseWaitMs"`,
        [notificationId, RETRY_WINDOW_SECS, RETRY_CALLS_PER_WINDOW],
      );
      const { used, recent, windowWaitMs, pauseWaitMs } = rows[0];
      if (Number(used) >= MAX_MANUAL_RETRIES) return { kind: 'exhausted' };
      if (pauseWaitMs !== null && pauseWaitMs > 0) return { kind: 'wait', waitMs: Math.ceil(pauseWaitMs) };
      if (Number(recent) >= RETRY_CALLS_PER_WINDOW) return { kind: 'wait', waitMs: Math.max(1, Math.ceil(windowWaitMs ?? 1000)) };
      const call = await tx.query<{ id: string }>('INSERT INTO capa_notification_retry_calls (notification_id) VALUES ($1) RETURNING id::text', [notificationId]);
      // It is FAILED again, so an earlier retry's redelivery failed too: that announcement will never be met.
      await tx.query('DELETE FROM capa_expected_redeliveries WHERE notification_id = $1', [notificationId]);
      const expected = await tx.query<{ id: string }>(
        `INSERT INTO capa_expected_redeliveries (notification_id, external_user_id, content_sha256)
         SELECT notification_id, external_user_id, content_sha256 FROM capa_webhook_inbox
         WHERE notification_id = $1 AND content_sha256 IS NOT NULL
         RETURNING id::text`,
        [notificationId],
      );
      return { kind: 'granted', callId: call.rows[0].id, expectationId: expected.rows[0]?.id ?? null };
    });
  }

  /**
   * What Capa answered a retry call. Refused (409, 429): the announced redelivery will not come, and a 429 pauses
   * retries for 60 s. An error keeps the announcement: Capa may have accepted the call.
   */
  async settleRetry(slot: Extract<RetrySlot, { kind: 'granted' }>, outcome: 'accepted' | 'refused' | 'error', rateLimited: boolean): Promise<void> {
    await runInTransaction(this.prisma.pool, async (tx) => {
      await tx.query('UPDATE capa_notification_retry_calls SET outcome = $2 WHERE id = $1', [slot.callId, outcome]);
      if (outcome === 'refused' && slot.expectationId !== null) {
        await tx.query('DELETE FROM capa_expected_redeliveries WHERE id = $1', [slot.expectationId]);
      }
      if (rateLimited) {
        await tx.query('UPDATE capa_reconcile_state SET retry_paused_until = now() + make_interval(secs => $1) WHERE id = 1', [RETRY_PAUSE_SECS]);
      }
    });
  }

  /** Forgets announced redeliveries that never came (retry calls stay: they count a notification's retries). */
  async prune(): Promise<void> {
    await this.prisma.pool.query('DELETE FROM capa_expected_redeliveries WHERE expected_at < now() - make_interval(secs => $1)', [EXPECTATION_TTL_SECS]);
  }

  /**
   * Users whose non-terminal KYC status has neither changed nor been polled for `afterMs`, least recently changed or
   * polled first (signups_kyc_poll_idx).
   */
  async pollCandidates(afterMs: number, limit: number): Promise<PollCandidate[]> {
    const { rows } = await this.prisma.pool.query<{ id: string; externalUserId: string }>(
      `SELECT id::text, external_user_id AS "externalUserId" FROM signups
       WHERE kyc_status IN ('IN_PROGRESS', 'REVIEW_NEEDED') AND status = 'CREATED' AND capa_user_id IS NOT NULL
         AND coalesce(kyc_updated_at, updated_at) <= now() - make_interval(secs => $1)
         AND (kyc_polled_at IS NULL OR kyc_polled_at <= now() - make_interval(secs => $1))
       ORDER BY greatest(coalesce(kyc_updated_at, updated_at), coalesce(kyc_polled_at, '-infinity')), id
       LIMIT $2`,
      [afterMs / 1000, limit],
    );
    return rows.map((row) => ({ signupId: BigInt(row.id), externalUserId: row.externalUserId }));
  }

  /**
   * Takes the next poll slot, KYC_POLL_RPS across replicas: the slot is max(now, the previous slot + 1/rps) by the
   * database's clock; answers how long to wait for it. The user is marked polled at once (at most once per afterMs).
   */
  async takePollSlot(signupId: bigint, rps: number): Promise<number> {
    const { rows } = await this.prisma.pool.query<{ waitMs: number }>(
      `WITH slot AS (
         UPDATE capa_reconcile_state SET last_poll_at = greatest(now(), coalesce(last_poll_at, now()) + make_interval(secs => $1))
         WHERE id = 1 RETURNING last_poll_at
       ), marked AS (UPDATE signups SET kyc_polled_at = now() WHERE id = $2)
       SELECT extract(epoch FROM (last_poll_at - now())) * 1000 AS "waitMs" FROM slot`,
      [1 / rps, signupId],
    );
    return Math.max(0, Math.ceil(Number(rows[0]?.waitMs ?? 0)));
  }
}
