import { Injectable } from '@nestjs/common';
import { type Signup } from '../generated/prisma/client';
import { OutboxWriter } from '../events/outbox-writer';
import { PrismaService } from '../persistence/prisma.service';
import { type Transaction, runInTransaction } from '../persistence/transaction';
import { PRISMA_ROW_TYPES, SIGNUP_COLUMNS, toRecord } from '../signups/signup-rows';
import type { SignupRecord } from '../signups/signup.types';
import { type ErasedValues, erasedValuesOf, redactBody, redactText, redactValues } from './redaction';

/** What an erase found: no signup, one still PENDING (nothing changed), one erased before, or one erased now. */
export type ErasureResult =
  | { kind: 'not-found' }
  | { kind: 'pending'; row: SignupRecord }
  | { kind: 'already-erased'; row: SignupRecord }
  | { kind: 'erased'; row: SignupRecord };

/**
 * Every stored text that may quote what a user submitted, by user: a SELECT of `key, value` (`$1` the signup's id or
 * its externalUserId, as `by` says) and the UPDATE that writes
 * the rewritten values back (`$1` keys, `$2` values, both arrays), and how a value is rewritten (free texts as text, JSON
 * and bodies that parse as JSON). Tables whose text holds no submitted value are left
 * out on purpose: audit_log (never an identifier or alias, and append-only), signup_status_changes, the reconciliation
 * bookkeeping (ids and hashes), admin_sessions (operators), event_endpoints, import_rate_buckets.
 */
const STORED_TEXTS = {
  attemptErrors: {
    by: 'signupId',
    select: `SELECT id::text AS key, error_message AS value FROM capa_attempts WHERE signup_id = $1 AND error_message IS NOT NULL`,
    update: `UPDATE capa_attempts a SET error_message = v.value FROM unnest($1::bigint[], $2::text[]) AS v(key, value) WHERE a.id = v.key`,
    rewrite: redactText,
  },
  eventData: {
    by: 'externalUserId',
    select: `SELECT id::text AS key, data::text AS value FROM outbox_events WHERE external_user_id = $1`,
    update: `UPDATE outbox_events e SET data = v.value::jsonb FROM unnest($1::uuid[], $2::text[]) AS v(key, value) WHERE e.id = v.key`,
    rewrite: redactBody,
  },
  deliveryErrors: {
    by: 'externalUserId',
    select: `SELECT d.id::text AS key, d.last_error AS value FROM event_deliveries d JOIN outbox_events e ON e.id = d.event_id
             WHERE e.external_user_id = $1 AND d.last_error IS NOT NULL`,
    update: `UPDATE event_deliveries d SET last_error = v.value FROM unnest($1::bigint[], $2::text[]) AS v(key, value) WHERE d.id = v.key`,
    rewrite: redactText,
  },
  deliveryAttemptErrors: {
    by: 'externalUserId',
    select: `SELECT a.id::text AS key, a.error AS value FROM event_delivery_attempts a
             JOIN event_deliveries d ON d.id = a.delivery_id JOIN outbox_events e ON e.id = d.event_id
             WHERE e.external_user_id = $1 AND a.error IS NOT NULL`,
    update: `UPDATE event_delivery_attempts a SET error = v.value FROM unnest($1::bigint[], $2::text[]) AS v(key, value) WHERE a.id = v.key`,
    rewrite: redactText,
  },
  inboxBodies: {
    by: 'externalUserId',
    select: `SELECT id::text AS key, body AS value FROM capa_webhook_inbox WHERE external_user_id = $1`,
    update: `UPDATE capa_webhook_inbox w SET body = v.value FROM unnest($1::bigint[], $2::text[]) AS v(key, value) WHERE w.id = v.key`,
    rewrite: redactBody,
  },
  importRowErrorMessages: {
    by: 'externalUserId',
    select: `SELECT import_id || ':' || line AS key, message AS value FROM import_row_errors WHERE external_user_id = $1`,
    update: `UPDATE import_row_errors r SET message = v.value FROM unnest($1::text[], $2::text[]) AS v(key, value)
             WHERE r.import_id = split_part(v.key, ':', 1)::uuid AND r.line = split_part(v.key, ':', 2)::int`,
    rewrite: redactText,
  },
  importRowErrorDetails: {
    by: 'externalUserId',
    select: `SELECT import_id || ':' || line AS key, details::text AS value FROM import_row_errors WHERE external_user_id = $1`,
    update: `UPDATE import_row_errors r SET details = v.value::jsonb FROM unnest($1::text[], $2::text[]) AS v(key, value)
             WHERE r.import_id = split_part(v.key, ':', 1)::uuid AND r.line = split_part(v.key, ':', 2)::int`,
    rewrite: redactBody,
  },
  // One row for all users: only the submitted values themselves, should a run's error have quoted them.
  reconcileError: {
    by: 'nothing',
    select: `SELECT id::text AS key, last_error AS value FROM capa_reconcile_state WHERE last_error IS NOT NULL`,
    update: `UPDATE capa_reconcile_state s SET last_error = v.value FROM unnest($1::smallint[], $2::text[]) AS v(key, value) WHERE s.id = v.key`,
    rewrite: redactValues,
  },
} as const satisfies Record<string, { by: string; select: string; update: string; rewrite: (value: string, erased: ErasedValues) => string }>;

type StoredText = keyof typeof STORED_TEXTS;

/** The erasure's one transaction: the signup locked, its personal data removed everywhere, its event appended. */
@Injectable()
export class ErasureRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly outbox: OutboxWriter,
  ) {}

  /**
   * Erases the signup's identifier and alias, and every value that looks submitted from what is stored about it, in one
   * transaction holding the row's lock (`FOR UPDATE`: a drive or a corrected payload waits, and a PENDING row is left
   * as it is). The fingerprint is salted with `salt`; the `user.erased` event commits with it.
   */
  erase(externalUserId: string, salt: string): Promise<ErasureResult> {
    return runInTransaction(this.prisma.pool, async (tx) => {
      const { rows } = await tx.query<Signup>({
        text: `SELECT ${SIGNUP_COLUMNS.sql} FROM signups WHERE external_user_id = $1 FOR UPDATE`,
        values: [externalUserId],
        types: PRISMA_ROW_TYPES,
      });
      if (rows.length === 0) return { kind: 'not-found' };
      const row = toRecord(rows[0]);
      if (row.status === 'PENDING') return { kind: 'pending', row };
      if ((row.erasedAt ?? null) !== null) return { kind: 'already-erased', row };
      const erased = erasedValuesOf(row);
      const updated = await tx.query<Signup>({
        text: `UPDATE signups SET identifier = NULL, alias = NULL, fingerprint_salt = $2, fingerprint = signup_fingerprint(fingerprint, $2),
                                  error_message = $3, erased_at = now(), updated_at = now()
               WHERE id = $1 RETURNING ${SIGNUP_COLUMNS.sql}`,
        values: [row.id, salt, row.errorMessage === null ? null : redactText(row.errorMessage, erased)],
        types: PRISMA_ROW_TYPES,
      });
      const erasedRow = toRecord(updated.rows[0]);
      for (const name of Object.keys(STORED_TEXTS) as StoredText[]) await this.rewrite(tx, name, row, erased);
      const erasedAt = (erasedRow.erasedAt as Date).toISOString();
      await this.outbox.append(tx, [{ type: 'user.erased', externalUserId, userId: erasedRow.userId, data: { erasedAt } }]);
      return { kind: 'erased', row: erasedRow };
    });
  }

  /** Rewrites one stored text of the user, writing back only the values that changed. */
  private async rewrite(tx: Transaction, name: StoredText, row: SignupRecord, erased: ErasedValues): Promise<void> {
    const { by, select, update, rewrite } = STORED_TEXTS[name];
    const stored = await tx.query<{ key: string; value: string }>(select, by === 'signupId' ? [row.id] : by === 'externalUserId' ? [row.externalUserId] : []);
    const keys: string[] = [];
    const values: string[] = [];
    for (const { key, value } of stored.rows) {
      const rewritten = rewrite(value, erased);
      if (rewritten === value) continue;
      keys.push(key);
      values.push(rewritten);
    }
    if (keys.length > 0) await tx.query(update, [keys, values]);
  }
}
