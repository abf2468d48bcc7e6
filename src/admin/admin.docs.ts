import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { EventStatsDoc } from '../events/event.docs';
import { KycDoc, SignupMappingDoc } from '../signups/signup.docs';

/** OpenAPI shapes of the admin answers (the runtime types are in admin-views.ts). */
export class SignupListDoc {
  @ApiProperty({ type: [SignupMappingDoc], description: 'Newest first' }) items: SignupMappingDoc[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last page' })
  nextCursor: string | null;
}

export class AttemptDoc {
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ enum: ['request', 'worker', 'operator'] }) actor: string;
  @ApiProperty({ enum: ['create', 'kyc-link', 'kyb-link', 'kyc-details', 'kyb-details', 'resolve'] }) operation: string;
  @ApiProperty({ example: 'created', description: 'created | rejected | exists-without-id | misconfigured | transient | resolved' })
  outcome: string;
  @ApiProperty({ type: Number, nullable: true, example: 201 }) httpStatus: number | null;
  @ApiProperty({ example: 87 }) latencyMs: number;
  @ApiProperty({ type: String, nullable: true }) errorCode: string | null;
  @ApiProperty({ type: String, nullable: true }) errorMessage: string | null;
}

class KycHistoryDoc {
  @ApiProperty({ type: String, nullable: true, example: 'VERIFIED_USER' }) event: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'kyc.status after this delivery' }) status: string | null;
  @ApiProperty({ format: 'date-time' }) receivedAt: string;
  @ApiProperty({ enum: ['applied', 'duplicate', 'unmatched', 'ignored'] }) outcome: string;
}

class KycDetailDoc extends KycDoc {
  @ApiProperty({ type: [KycHistoryDoc], description: 'Every KYC webhook received for the user, newest first' }) history: KycHistoryDoc[];
}

class WebhookStatsDoc {
  @ApiProperty() received: number;
  @ApiProperty() applied: number;
  @ApiProperty() duplicate: number;
  @ApiProperty() unmatched: number;
  @ApiProperty() unreadable: number;
  @ApiProperty() ignored: number;
  @ApiProperty({ description: 'Deliveries refused for a missing or wrong signature, by this process since it started' }) rejectedSignatures: number;
}

export class SignupDetailDoc extends SignupMappingDoc {
  @ApiProperty({ type: KycDetailDoc }) declare kyc: KycDetailDoc;
  @ApiProperty({ description: 'Capa calls made for this signup' }) attemptCount: number;
  @ApiProperty({ type: String, nullable: true, description: 'The process driving it now, if any' }) leaseOwner: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) leaseUntil: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time', description: 'When the worker retries a PENDING row' })
  nextAttemptAt: string | null;
  @ApiProperty({ type: [AttemptDoc], description: 'Newest first, at most 100' }) attempts: AttemptDoc[];
}

class StatusCountsDoc {
  @ApiProperty() PENDING: number;
  @ApiProperty() CREATED: number;
  @ApiProperty() FAILED: number;
  @ApiProperty() NEEDS_ATTENTION: number;
}

class HourlyCountsDoc extends StatusCountsDoc {
  @ApiProperty({ format: 'date-time', description: 'Start of the UTC hour' }) bucket: string;
}

class LatencyDoc {
  @ApiProperty({ type: Number, nullable: true }) p50: number | null;
  @ApiProperty({ type: Number, nullable: true }) p99: number | null;
}

class CapaOutcomeCountsDoc {
  @ApiProperty() created: number;
  @ApiProperty() rejected: number;
  @ApiProperty({ name: 'exists-without-id' }) existsWithoutId: number;
  @ApiProperty() misconfigured: number;
  @ApiProperty() transient: number;
}

class RetryBudgetDoc {
  @ApiProperty({ description: 'Retries sent to Capa (in-request and background) since this process started' }) allowed: number;
  @ApiProperty({ description: 'Retries the retry budget held back (the caller got 202, or the signup was rescheduled)' }) refused: number;
}

class CapaStatsDoc {
  @ApiProperty({ description: 'Calls to Capa by this process since it started' }) calls: number;
  @ApiProperty({ description: 'Calls that failed as calls: timeouts, network errors, 5xx, 429, 401/403' }) failures: number;
  @ApiProperty({ description: 'failures / calls (0 before the first call)' }) failureRate: number;
  @ApiPropertyOptional({ type: CapaOutcomeCountsDoc }) byOutcome: CapaOutcomeCountsDoc;
  @ApiProperty({ type: LatencyDoc, description: 'Over the last 1000 calls, milliseconds' }) latencyMs: LatencyDoc;
  @ApiProperty({ type: RetryBudgetDoc }) retryBudget: RetryBudgetDoc;
  @ApiProperty({ enum: ['closed', 'open', 'half-open'] }) circuit: string;
}

export class AdminStatsDoc {
  @ApiProperty() total: number;
  @ApiProperty({ type: StatusCountsDoc }) byStatus: StatusCountsDoc;
  @ApiProperty({ type: CapaStatsDoc }) capa: CapaStatsDoc;
  @ApiProperty({ type: [HourlyCountsDoc], description: 'Signups created per UTC hour over the last 24 hours, by current status' })
  signupsOverTime: HourlyCountsDoc[];
  @ApiProperty({ type: EventStatsDoc, description: 'Event webhook deliveries per endpoint: backlog, failed, lag' }) events: EventStatsDoc;
  @ApiProperty({ type: WebhookStatsDoc, description: "Capa's webhook deliveries by outcome" }) webhooks: WebhookStatsDoc;
}

class InboxEntryDoc {
  @ApiProperty({ example: '42' }) id: string;
  @ApiProperty({ format: 'date-time' }) receivedAt: string;
  @ApiProperty({ enum: ['applied', 'duplicate', 'unmatched', 'unreadable', 'ignored'] }) outcome: string;
  @ApiProperty({ type: String, nullable: true, example: 'KYC' }) type: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'VERIFIED_USER' }) event: string | null;
  @ApiProperty({ type: String, nullable: true }) externalUserId: string | null;
  @ApiProperty({ description: 'SHA-256 of the raw body, hex' }) sha256: string;
  @ApiProperty({ description: 'The body as received' }) body: string;
}

export class InboxListDoc {
  @ApiProperty({ type: [InboxEntryDoc], description: 'Newest first' }) items: InboxEntryDoc[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last page' })
  nextCursor: string | null;
}
