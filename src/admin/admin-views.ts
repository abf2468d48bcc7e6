import type { CircuitStatus } from '../capa/capa.gateway';
import { SIGNUP_STATUSES, toMapping } from '../signups/signup.types';
import type { SignupMapping, SignupRecord, SignupStatus } from '../signups/signup.types';
import type { HourlySignupCount, StoredAttempt } from './admin.types';
import type { CapaCallSummary } from './capa-call-stats';
import type { EventStatsView } from '../events/event-stats';
import type { KycHistoryView, WebhookStatsView } from './webhook-views';

/** `GET /admin/users` answer. */
export interface SignupListView {
  items: SignupMapping[];
  nextCursor: string | null;
}

/** A StoredAttempt as the API shows it (time as ISO 8601). */
export type AttemptView = Omit<StoredAttempt, 'at'> & { at: string };

/** `GET /admin/users/{externalUserId}` answer: the mapping, where its drive stands, and its attempts log. */
export interface SignupDetailView extends SignupMapping {
  attemptCount: number;
  leaseOwner: string | null;
  leaseUntil: string | null;
  nextAttemptAt: string | null;
  attempts: AttemptView[];
  kyc: SignupMapping['kyc'] & { history: KycHistoryView[] };
}

export type StatusCounts = Record<SignupStatus, number>;

export interface HourlyStatusCounts extends StatusCounts {
  bucket: string;
}

/** `GET /admin/stats` answer. */
export interface AdminStatsView {
  total: number;
  byStatus: StatusCounts;
  capa: CapaCallSummary & { circuit: CircuitStatus };
  signupsOverTime: HourlyStatusCounts[];
  events: EventStatsView;
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
  return Object.fromEntries(SIGNUP_STATUSES.map((status) => [status, 0])) as StatusCounts;
}
