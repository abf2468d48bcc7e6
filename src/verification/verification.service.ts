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
import { VerificationKind, kycStatusFromVerdict, verificationKindFor } from './kyc-status';
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
    const { signup, capaUserId } = await this.registered(externalUserId);
    if (signup.kycStatus === 'VERIFIED') throw new AlreadyVerifiedError(externalUserId);
    const kind = verificationKindFor(signup.userType);
    const outcome = await this.call(signup, 'request', verificationLinkCall(kind, capaUserId, country, redirectUri), requestId);
    this.metrics.linkRequested(kind, outcome.kind);
    const link = answerOf(outcome);
    const issuedAt = await this.repository.markLinkIssued(signup.id);
    // The mapping's kyc.linkIssuedAt changed: this replica answers it at once (the others at commit, by notification).
    this.notifications.publishLocally(MAPPING_CHANGED, signup.externalUserId);
    return { externalUserId, userId: capaUserId, kind, link, issuedAt: issuedAt.toISOString() };
  }

  /**
   * Reads the verdict of Capa's details endpoint (only that field) and sets kyc.status from it.
   * A status change here is the second place a `kyc.status_changed` event comes from (issue 12).
   */
  async refresh(externalUserId: string, requestId?: string): Promise<KycStatusUpdate> {
    const { signup, capaUserId } = await this.registered(externalUserId);
    const kind = verificationKindFor(signup.userType);
    const verdict = answerOf(await this.call(signup, 'operator', verificationDetailsCall(kind, capaUserId), requestId));
    const status = kycStatusFromVerdict(verdict);
    if (status === undefined) throw new CapaUnexpectedAnswerError(`Capa's ${kind} verdict ${JSON.stringify(verdict)} names no known status`);
    const updated = await this.repository.inTransaction(async (tx) => {
      const update = await this.repository.setKycStatus(tx, signup.id, status);
      if (update !== null && update.previousStatus !== status) {
        // No Capa event caused this change: an operator read the verdict.
        const data = { status, previousStatus: update.previousStatus, capaEvent: null };
        await this.outbox.append(tx, [{ type: 'kyc.status_changed', externalUserId: signup.externalUserId, userId: capaUserId, data }]);
      }
      return update;
    });
    this.notifications.publishLocally(MAPPING_CHANGED, signup.externalUserId);
    if (updated === null) throw new NotFoundError(`No signup for externalUserId ${JSON.stringify(externalUserId)}`);
    return updated;
  }

  private async registered(externalUserId: string): Promise<{ signup: SignupRecord; capaUserId: string }> {
    const signup = await this.signups.findByExternalUserId(externalUserId);
    if (signup === null) throw new NotFoundError(`No signup for externalUserId ${JSON.stringify(externalUserId)}`);
    if (signup.status !== 'CREATED' || signup.capaUserId === null) throw new NotRegisteredError(externalUserId, signup.status);
    return { signup, capaUserId: signup.capaUserId };
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
