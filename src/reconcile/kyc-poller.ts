import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { VerificationService } from '../verification/verification.service';
import { ReconcileMetrics } from './reconcile-metrics';
import { ReconcileRepository } from './reconcile.repository';
import type { RunLease } from './run-lease';

/**
 * The fallback for what Capa never sent (NOT_SENT, or a notification gone): users whose IN_PROGRESS or REVIEW_NEEDED
 * status has neither changed nor been polled for KYC_POLL_AFTER_MS are refreshed from Capa's details endpoint, least
 * recently changed or polled first, at most KYC_POLL_RPS calls a second across replicas (a slot by the database's clock).
 * Runs inside the reconciler's runs, under its lock.
 */
@Injectable()
export class KycPoller {
  constructor(
    private readonly repository: ReconcileRepository,
    private readonly verification: VerificationService,
    private readonly metrics: ReconcileMetrics,
    private readonly config: AppConfig,
  ) {}

  /** Polls the due users until none is left, `deadline` (epoch ms) would pass, or the run must stop; answers the calls made. */
  async poll(lease: RunLease, deadline: number): Promise<number> {
    const rps = this.config.kycPollRps;
    const limit = Math.max(1, Math.floor(((deadline - Date.now()) / 1000) * rps));
    const candidates = await this.repository.pollCandidates(this.config.kycPollAfterMs, limit);
    let polled = 0;
    for (const candidate of candidates) {
      if (!(await lease.mayContinue()) || Date.now() + 1000 / rps > deadline + 1000) break;
      const waitMs = await this.repository.takePollSlot(candidate.signupId, rps);
      // The slot is taken and the user marked polled: a shutdown now skips the call, which a later run makes.
      if (!(await lease.pause(waitMs))) break;
      const outcome = await this.verification.poll(candidate.externalUserId).catch(() => 'error' as const);
      polled += 1;
      await this.repository.count('polled');
      this.metrics.polled(outcome);
    }
    return polled;
  }
}
