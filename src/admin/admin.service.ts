import { Injectable } from '@nestjs/common';
import { CapaGateway } from '../capa/capa.gateway';
import { EventStats } from '../events/event-stats';
import { AdminRepository } from './admin.repository';
import { SignupRepository } from '../signups/signup.repository';
import { toMapping } from '../signups/signup.types';
import type { SignupMapping } from '../signups/signup.types';
import { SignupsService } from '../signups/signups.service';
import { InvalidStateError, LeaseHeldError, UserIdAlreadyAttachedError } from './admin.errors';
import { AdminStatsView, SignupDetailView, SignupListView, hourStart, hourlySeries, toDetailView } from './admin-views';
import { CapaCallStats } from './capa-call-stats';
import { ListSignupsQuery } from './list-signups.query';
import { decodePageCursor, encodePageCursor } from '../common/page-cursor';
import { toKycHistoryView, toWebhookStats } from '../capa-webhooks/inbox-views';
import { WebhookInboxRepository } from '../capa-webhooks/webhook-inbox.repository';
import { VerificationMetrics } from '../verification/verification-metrics';

/** The attempts log shown per signup: the newest ones, enough to see a pattern without an unbounded answer. */
const MAX_ATTEMPTS_SHOWN = 100;
const CHART_HOURS = 24;
const RESOLVABLE_STATUSES = ['NEEDS_ATTENTION', 'FAILED'] as const;

/** What operators can see and do with signups; the re-drive itself is the signup flow's (SignupsService.retryNow). */
@Injectable()
export class AdminService {
  constructor(
    private readonly admin: AdminRepository,
    private readonly signupRepository: SignupRepository,
    private readonly signups: SignupsService,
    private readonly capaCalls: CapaCallStats,
    private readonly gateway: CapaGateway,
    private readonly eventStats: EventStats,
    private readonly inbox: WebhookInboxRepository,
    private readonly verificationMetrics: VerificationMetrics,
  ) {}

  async list(query: ListSignupsQuery): Promise<SignupListView> {
    // The query DTO has already rejected cursors that do not decode.
    const beforeId = query.cursor === undefined ? undefined : (decodePageCursor(query.cursor) ?? undefined);
    const page = await this.admin.listSignups({ status: query.status, kycStatus: query.kycStatus, search: query.search, beforeId, limit: query.limit });
    const last = page.rows.at(-1);
    return {
      items: page.rows.map(toMapping),
      nextCursor: page.hasMore && last !== undefined ? encodePageCursor(last.id) : null,
    };
  }

  async detail(externalUserId: string): Promise<SignupDetailView> {
    const row = await this.signups.get(externalUserId);
    const [attempts, kycHistory] = await Promise.all([
      this.admin.listAttempts(row.id, MAX_ATTEMPTS_SHOWN),
      this.inbox.kycHistory(row.externalUserId, MAX_ATTEMPTS_SHOWN),
    ]);
    return toDetailView(row, attempts, kycHistory.map(toKycHistoryView));
  }

  async retry(externalUserId: string, requestId?: string): Promise<SignupMapping> {
    const { held, row } = await this.signups.retryNow(externalUserId, requestId);
    if (held) throw new LeaseHeldError(row);
    return toMapping(row);
  }

  async resolve(externalUserId: string, answeredUserId: string): Promise<SignupMapping> {
    // UUIDs are case-insensitive; one spelling keeps exact-match search working.
    const userId = answeredUserId.toLowerCase();
    const attached = await this.admin.attachUserId(externalUserId, userId, new Date());
    if (attached.taken) {
      // The unique index decided; the holder is read only to name it in the answer.
      const holder = await this.admin.findByUserId(userId);
      throw new UserIdAlreadyAttachedError(userId, holder?.externalUserId ?? 'another signup');
    }
    if (attached.row !== null) return toMapping(attached.row);
    throw new InvalidStateError(await this.signups.get(externalUserId), 'resolve', RESOLVABLE_STATUSES);
  }

  async stats(): Promise<AdminStatsView> {
    const now = new Date();
    const firstHour = hourStart(now, CHART_HOURS - 1);
    const [byStatus, hourly, webhooksByOutcome, events] = await Promise.all([
      this.signupRepository.countByStatus(),
      this.admin.countCreatedPerHour(firstHour),
      this.inbox.countByOutcome(),
      this.eventStats.current(now),
    ]);
    return {
      total: Object.values(byStatus).reduce((sum, count) => sum + count, 0),
      byStatus,
      capa: { ...this.capaCalls.summary(), circuit: this.gateway.circuitStatus() },
      signupsOverTime: hourlySeries(hourly, firstHour, now),
      events,
      webhooks: toWebhookStats(webhooksByOutcome, this.verificationMetrics.rejectedSignatureCount),
    };
  }
}
