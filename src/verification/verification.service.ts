import { Injectable } from '@nestjs/common';
import { CapaGateway } from '../capa/capa.gateway';
import { VerificationCall, VerificationOutcome, verificationDetailsCall, verificationLinkCall } from '../capa/verification-call';
import { NotFoundError } from '../common/api-error';
import { AppConfig } from '../config/app-config';
import { OutboxWriter } from '../events/outbox-writer';
import { VerificationMetrics } from './verification-metrics';
import type { AttemptActor } from '../signups/signup-rows';
import { SignupRepository } from '../signups/signup.repository';
import { DatabaseNotifications } from '../persistence/database-notifications';
import { KycStatusUpdate, VerificationRepository } from './verification.repository';
import { MAPPING_CHANGED } from '../signups/mapping-cache';
import type { SignupRecord } from '../signups/signup.types';
import { VerificationKind, decideVerdict, verificationKindFor } from './kyc-status';
import type { VerificationLinkAnswer } from './verification.types';
import {
  AlreadyVerifiedError,
  CapaMisconfiguredError,
  CapaUnavailableError,
  CapaUnexpectedAnswerError,
  NotRegisteredError,
  VerificationRejectedError,
} from './verification.errors';

const DEFAULT_RETRY_AFTER_S = 5;

/** Verification links and the operators' refresh of a status from Capa's details endpoint. */
@Injectable()
export class VerificationService {
  constructor(
    private readonly signups: SignupRepository,
    private readonly repository: VerificationRepository,
    private readonly gateway: CapaGateway,
    private readonly config: AppConfig,
    private readonly metrics: VerificationMetrics,
    private readonly outbox: OutboxWriter,
    private readonly notifications: DatabaseNotifications,
  ) {}

  async issueLink(externalUserId: string, country: string, redirectUri: string | undefined, requestId?: string): Promise<VerificationLinkAnswer> {
    const { signup, userId } = await this.registered(externalUserId);
    if (signup.kycStatus === 'VERIFIED') throw new AlreadyVerifiedError(externalUserId);
    const kind = verificationKindFor(signup.userType);
    const outcome = await this.call(signup, 'request', verificationLinkCall(kind, userId, country, redirectUri), requestId);
    this.metrics.linkRequested(kind, outcome.kind);
    const link = answerOf(outcome);
    const issuedAt = await this.repository.markLinkIssued(signup.id);
    // The mapping's kyc.linkIssuedAt changed: this replica answers it at once (the others at commit, by notification).
    this.notifications.publishLocally(MAPPING_CHANGED, signup.externalUserId);
    return { externalUserId, userId: userId, kind, link, issuedAt: issuedAt.toISOString() };
  }

  /**
   * Reads the verdict of Capa's details endpoint (only that field) and sets kyc.status from it.
   * A status change here is the second place a `kyc.status_changed` event comes from (issue 12).
   */
  async refresh(externalUserId: string, requestId?: string): Promise<KycStatusUpdate> {
    const { signup, userId } = await this.registered(externalUserId);
    const kind = verificationKindFor(signup.userType);
    const verdict = answerOf(await this.call(signup, 'operator', verificationDetailsCall(kind, userId), requestId));
    const updated = await this.applyVerdict(signup, userId, verdict, {});
    if (updated === null) throw new NotFoundError(`No signup for externalUserId ${JSON.stringify(externalUserId)}`);
    return updated;
  }

  /**
   * The poll fallback's refresh of one user (DESIGN.md, reconciliation): as `refresh`, by the worker; a failed call or
   * an answer without a known verdict (404 included) changes nothing. Answers whether the status changed.
   */
  async poll(externalUserId: string): Promise<'changed' | 'unchanged' | 'error'> {
    const signup = await this.signups.findByExternalUserId(externalUserId);
    if (signup === null || signup.status !== 'CREATED' || signup.userId === null) return 'unchanged';
    const outcome = await this.call(signup, 'worker', verificationDetailsCall(verificationKindFor(signup.userType), signup.userId));
    if (outcome.kind === 'rejected' || outcome.kind === 'unreadable') return 'unchanged';
    if (outcome.kind !== 'answered') return 'error';
    const updated = await this.applyVerdict(signup, signup.userId, outcome.value, { source: 'polled' });
    return updated !== null && updated.signup.kycStatus !== updated.previousStatus ? 'changed' : 'unchanged';
  }

  /** Sets the status a verdict calls for (never backwards: decideVerdict), with its `kyc.status_changed` when it moved. */
  private async applyVerdict(signup: SignupRecord, userId: string, verdict: unknown, extra: { source?: 'polled' }): Promise<KycStatusUpdate | null> {
    const updated = await this.repository.inTransaction(async (tx) => {
      const update = await this.repository.setKycStatus(tx, signup.id, (current) => decideVerdict(current, verdict));
      if (update !== null && update.previousStatus !== update.signup.kycStatus) {
        // No Capa event caused this change: an operator or the poll fallback read the verdict.
        const data = { status: update.signup.kycStatus, previousStatus: update.previousStatus, capaEvent: null, ...extra };
        await this.outbox.append(tx, [{ type: 'kyc.status_changed', externalUserId: signup.externalUserId, userId: userId, data }]);
      }
      return update;
    });
    if (updated !== null && updated.previousStatus !== updated.signup.kycStatus) this.notifications.publishLocally(MAPPING_CHANGED, signup.externalUserId);
    return updated;
  }

  private async registered(externalUserId: string): Promise<{ signup: SignupRecord; userId: string }> {
    const signup = await this.signups.findByExternalUserId(externalUserId);
    if (signup === null) throw new NotFoundError(`No signup for externalUserId ${JSON.stringify(externalUserId)}`);
    if (signup.status !== 'CREATED' || signup.userId === null) throw new NotRegisteredError(externalUserId, signup.status);
    return { signup, userId: signup.userId };
  }

  private call<T>(signup: SignupRecord, actor: AttemptActor, call: VerificationCall<T>, requestId?: string): Promise<VerificationOutcome<T>> {
    return this.gateway.callVerification(call, {
      deadline: Date.now() + this.config.requestDeadlineMs,
      requestId,
      externalUserId: signup.externalUserId,
      onAttempt: (attempt) => this.repository.recordAttempt(signup.id, actor, call.operation, attempt, call.body?.country ?? null),
    });
  }
}

/** The value of an answered call, or the contract's error for any other outcome. */
function answerOf<T>(outcome: VerificationOutcome<T>): T {
  switch (outcome.kind) {
    case 'answered':
      return outcome.value;
    case 'rejected':
      throw new VerificationRejectedError(outcome.errorCode, outcome.errorMessage);
    case 'misconfigured':
      throw new CapaMisconfiguredError(outcome.httpStatus);
    case 'unreadable':
      throw new CapaUnexpectedAnswerError(outcome.errorMessage);
    case 'transient':
      throw new CapaUnavailableError(Math.max(1, Math.ceil((outcome.retryAfterMs ?? DEFAULT_RETRY_AFTER_S * 1000) / 1000)));
  }
}
