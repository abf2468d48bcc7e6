import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { CircuitStatus } from '../capa/capa.gateway';
import { ApiDateTime } from '../common/api-date-time';
import { KycView, SIGNUP_STATUSES, SignupMapping, toMapping } from '../signups/signup.types';
import type { SignupRecord, SignupStatus } from '../signups/signup.types';
import type { HourlySignupCount, StoredAttempt } from './admin.types';
import { EventStatsView } from '../events/event.types';
import { KycHistoryView, WebhookStatsView } from '../capa-webhooks/inbox-views';

/** `GET /admin/users` answer. */
export class SignupListView {
  /** Newest first */
  items: SignupMapping[];
  /** Pass as `cursor` for the next page; null on the last page */
  nextCursor: string | null;
}

/** A StoredAttempt as the API shows it (time as ISO 8601). */
export class AttemptView {
  @ApiDateTime() at: string;
  @ApiProperty({ enum: ['request', 'worker', 'operator'] }) actor: string;
  @ApiProperty({ enum: ['create', 'kyc-link', 'kyb-link', 'kyc-details', 'kyb-details', 'resolve'] }) operation: string;
  /**
   * created | rejected | exists-without-id | misconfigured | transient | resolved
   * @example 'created'
   */
  outcome: string;
  /** @example 201 */
  httpStatus: number | null;
  /** @example 87 */
  latencyMs: number;
  errorCode: string | null;
  errorMessage: string | null;
}

/** `kyc` in the admin detail: the mapping's, with every KYC webhook received for the user. */
export class KycDetailView extends KycView {
  /** Every KYC webhook received for the user, newest first */
  history: KycHistoryView[];
}

/** `GET /admin/users/{externalUserId}` answer: the mapping, where its drive stands, and its attempts log. */
export class SignupDetailView extends SignupMapping {
  @ApiProperty({ type: KycDetailView }) declare kyc: KycDetailView;
  /** Capa calls made for this signup */
  attemptCount: number;
  /** The process driving it now, if any */
  leaseOwner: string | null;
  @ApiDateTime({ nullable: true }) leaseUntil: string | null;
  /** When the worker retries a PENDING row */
  @ApiDateTime({ nullable: true }) nextAttemptAt: string | null;
  /** Newest first, at most 100 */
  attempts: AttemptView[];
}

/** Signups by status. */
export class StatusCounts {
  PENDING: number;
  CREATED: number;
  FAILED: number;
  NEEDS_ATTENTION: number;
}

/** Signups created in one UTC hour, by current status. */
export class HourlyStatusCounts extends StatusCounts {
  /** Start of the UTC hour */
  @ApiDateTime() bucket: string;
}

/** Capa calls by outcome. */
export class CapaOutcomeCounts {
  created: number;
  rejected: number;
  @ApiProperty({ name: 'exists-without-id' }) 'exists-without-id': number;
  misconfigured: number;
  transient: number;
}

/** Call latency percentiles in milliseconds; null before the first call. */
export class LatencyPercentiles {
  p50: number | null;
  p99: number | null;
}

/** Retries sent to Capa and retries the retry budget held back, since this process started. */
export class RetryBudgetCounts {
  /** Retries sent to Capa (in-request and background) since this process started */
  allowed: number;
  /** Retries the retry budget held back (the caller got 202, or the signup was rescheduled) */
  refused: number;
}

/** This process's Capa calls since it started (CapaCallStats). */
export class CapaCallSummary {
  /** Calls to Capa by this process since it started */
  calls: number;
  /** Calls that failed as calls: timeouts, network errors, 5xx, 429, 401/403 */
  failures: number;
  /** failures / calls (0 before the first call) */
  failureRate: number;
  @ApiPropertyOptional({ type: CapaOutcomeCounts }) byOutcome: CapaOutcomeCounts;
  /** Over the last 1000 calls, milliseconds (null before the first call) */
  latencyMs: LatencyPercentiles;
  retryBudget: RetryBudgetCounts;
}

/** `capa` in /admin/stats: this process's Capa calls, and the circuit's state. */
export class CapaStatsView extends CapaCallSummary {
  circuit: CircuitStatus;
}

/** `GET /admin/stats` answer. */
export class AdminStatsView {
  total: number;
  byStatus: StatusCounts;
  capa: CapaStatsView;
  /** Signups created per UTC hour over the last 24 hours, by current status */
  signupsOverTime: HourlyStatusCounts[];
  /** Event webhook deliveries per endpoint: backlog, failed, lag */
  events: EventStatsView;
  /** Capa's webhook deliveries by outcome */
  webhooks: WebhookStatsView;
}

export function toDetailView(row: SignupRecord, attempts: StoredAttempt[], kycHistory: KycHistoryView[] = []): SignupDetailView {
  const mapping = toMapping(row);
  return {
    ...mapping,
    kyc: { ...mapping.kyc, history: kycHistory },
    attemptCount: row.attemptCount,
    leaseOwner: row.leaseOwner,
    leaseUntil: row.leaseUntil?.toISOString() ?? null,
    nextAttemptAt: row.nextAttemptAt?.toISOString() ?? null,
    attempts: attempts.map((attempt) => ({ ...attempt, at: attempt.at.toISOString() })),
  };
}

export const HOUR_MS = 3_600_000;

/** The start of the UTC hour `hoursBack` hours before the one `now` falls in. */
export function hourStart(now: Date, hoursBack = 0): Date {
  return new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS - hoursBack * HOUR_MS);
}

/** One entry per hour from `first` up to the hour of `now`, zero-filled where nothing was created. */
export function hourlySeries(counts: HourlySignupCount[], first: Date, now: Date): HourlyStatusCounts[] {
  const series: HourlyStatusCounts[] = [];
  const byBucket = new Map<string, HourlyStatusCounts>();
  for (let at = first.getTime(); at <= now.getTime(); at += HOUR_MS) {
    const entry = { bucket: new Date(at).toISOString(), ...zeroCounts() };
    series.push(entry);
    byBucket.set(entry.bucket, entry);
  }
  for (const count of counts) {
    const entry = byBucket.get(count.bucket);
    if (entry !== undefined) entry[count.status] += count.count;
  }
  return series;
}

export function zeroCounts(): StatusCounts {
  return Object.fromEntries(SIGNUP_STATUSES.map((status) => [status, 0])) as Record<SignupStatus, number>;
}
