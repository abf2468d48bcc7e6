import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { CapaGateway } from '../capa/capa.gateway';
import { ApiError, NotFoundError } from '../common/api-error';
import { waitAtMost } from '../common/deadline';
import { INSTANCE_ID } from '../common/instance-id';
import { AppConfig } from '../config/app-config';
import { AttemptActor, Lease, SignupRepository } from '../persistence/signup.repository';
import { ExternalUserIdConflictError, SignupAnswer, answerFor } from './signup-answer';
import { capaRequestFor } from './signup-request';
import { decideOnRepeat, isLeaseFree, transitionFor } from './signup-state';
import { SignupRecord, SignupRequest, toMapping } from './signup.types';

/** Extra lease time beyond the deadline, so a lease never runs out under a call still in flight. */
const LEASE_MARGIN_MS = 2000;
/** Races (a row changing between read and conditional write) are re-decided at most this often. */
const MAX_ROUNDS = 20;
const MAX_POLL_MS = 200;

/**
 * The idempotent create flow. The row is committed PENDING before Capa is called; the unique key on
 * externalUserId and the lease columns decide who calls Capa, across requests, workers and replicas.
 */
@Injectable()
export class SignupsService {
  /** Drives in progress in this process, so local duplicates wait on a promise instead of polling. */
  private readonly inFlight = new Map<string, Promise<SignupRecord>>();

  constructor(
    private readonly repository: SignupRepository,
    private readonly gateway: CapaGateway,
    private readonly config: AppConfig,
  ) {}

  async register(request: SignupRequest, requestId?: string): Promise<SignupAnswer> {
    const deadline = Date.now() + this.config.requestDeadlineMs;
    let row = await this.find(request.externalUserId);
    for (let round = 0; round < MAX_ROUNDS; round++) {
      if (row === null) {
        const inserted = await this.repository.insertPending(request, this.leaseUntil(deadline));
        if (inserted !== null) return this.driveAndAnswer(inserted, deadline, 'request', requestId);
        row = await this.find(request.externalUserId);
        continue;
      }
      const now = new Date();
      switch (decideOnRepeat(row, request.fingerprint, now)) {
        case 'replay':
          return this.answer(row, false, now);
        case 'conflict':
          throw new ExternalUserIdConflictError(request.externalUserId);
        case 'replace-failed': {
          const taken = await this.repository.replaceFailed(row, request, this.leaseUntil(deadline), now);
          if (taken !== null) return this.driveAndAnswer(taken, deadline, 'request', requestId);
          break;
        }
        case 'claim': {
          const taken = await this.repository.claimPending(row.id, this.leaseUntil(deadline), now);
          if (taken !== null) return this.driveAndAnswer(taken, deadline, 'request', requestId);
          break;
        }
        case 'wait': {
          const settled = await this.waitUntilSettled(row, deadline);
          if (settled.status === 'PENDING' && Date.now() >= deadline) return this.answer(settled, false, new Date());
          row = settled;
          continue;
        }
      }
      row = await this.find(request.externalUserId);
    }
    if (row === null) throw new Error(`Signup ${request.externalUserId} vanished while being registered`);
    return this.answer(row, false, new Date());
  }

  /**
   * The mapping as `GET /v1/users/{id}` shows it, as JSON text. Always read from the database: a CREATED row's
   * `kyc` changes with Capa's webhooks, which any replica may receive, so no process may answer it from memory.
   */
  async mappingJson(externalUserId: string): Promise<string> {
    return JSON.stringify(toMapping(await this.get(externalUserId)));
  }

  /** The stored row, always read from the database (operators see it as it is now). */
  async get(externalUserId: string): Promise<SignupRecord> {
    const row = await this.find(externalUserId);
    if (row === null) throw new NotFoundError(`No signup for externalUserId ${JSON.stringify(externalUserId)}`);
    return row;
  }

  /**
   * An operator's "retry now": FAILED / NEEDS_ATTENTION / unleased PENDING rows are driven at once (one round of
   * attempts within the request deadline). A row another owner is driving is left to it (LeaseHeldError).
   */
  async retryNow(externalUserId: string, requestId?: string): Promise<SignupRecord> {
    const row = await this.get(externalUserId);
    if (row.status === 'CREATED') return row;
    const deadline = Date.now() + this.config.requestDeadlineMs;
    const taken = await this.repository.takeForRedrive(row.id, this.leaseUntil(deadline), new Date());
    if (taken === null) {
      const current = await this.get(externalUserId);
      if (current.status === 'CREATED') return current;
      throw new LeaseHeldError(current);
    }
    return this.drive(taken, deadline, 'operator', requestId);
  }

  /**
   * Calls Capa for a row whose lease this process holds, records every attempt, and applies the outcome.
   * Answers the row as it stands afterwards (also when another owner settled it meanwhile).
   */
  drive(row: SignupRecord, deadline: number, actor: AttemptActor, requestId?: string): Promise<SignupRecord> {
    const drive = this.callCapaAndSettle(row, deadline, actor, requestId).finally(() => {
      if (this.inFlight.get(row.externalUserId) === drive) this.inFlight.delete(row.externalUserId);
    });
    this.inFlight.set(row.externalUserId, drive);
    return drive;
  }

  private async driveAndAnswer(row: SignupRecord, deadline: number, actor: AttemptActor, requestId?: string): Promise<SignupAnswer> {
    const settled = await this.drive(row, deadline, actor, requestId);
    return this.answer(settled, settled.status === 'CREATED', new Date());
  }

  private async callCapaAndSettle(row: SignupRecord, deadline: number, actor: AttemptActor, requestId?: string): Promise<SignupRecord> {
    let attempts = 0;
    const outcome = await this.gateway.createUser(capaRequestFor(row), {
      deadline,
      requestId,
      onAttempt: async (attempt) => {
        attempts += 1;
        await this.repository.recordAttempt(row.id, actor, attempt);
      },
    });
    const now = new Date();
    const transition = transitionFor(outcome, row.attemptCount + attempts, now, this.config.backgroundBackoff);
    const settled = await this.repository.applyTransition(row.id, INSTANCE_ID, transition, attempts, now);
    return settled ?? (await this.get(row.externalUserId));
  }

  private answer(row: SignupRecord, createdByThisRequest: boolean, now: Date): SignupAnswer {
    return answerFor(row, createdByThisRequest, now);
  }

  private find(externalUserId: string): Promise<SignupRecord | null> {
    return this.repository.findByExternalUserId(externalUserId);
  }

  /** Waits for another owner's drive: on the local promise if it is ours, else by polling the row. */
  private async waitUntilSettled(row: SignupRecord, deadline: number): Promise<SignupRecord> {
    let current = row;
    let pollMs = 10;
    while (current.status === 'PENDING' && !isLeaseFree(current, new Date())) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return current;
      const local = this.inFlight.get(current.externalUserId);
      if (local !== undefined) {
        const settled = await waitAtMost(local.catch(() => undefined), remaining);
        if (settled !== undefined) return settled;
      } else {
        await sleep(Math.min(pollMs, remaining));
        pollMs = Math.min(pollMs * 2, MAX_POLL_MS);
      }
      current = (await this.find(current.externalUserId)) ?? current;
    }
    return current;
  }

  leaseUntil(deadline: number): Lease {
    return { owner: INSTANCE_ID, until: new Date(deadline + LEASE_MARGIN_MS) };
  }
}

export class LeaseHeldError extends ApiError {
  constructor(row: SignupRecord) {
    super(409, 'LEASE_HELD', `Signup ${JSON.stringify(row.externalUserId)} is being driven by ${row.leaseOwner ?? 'another owner'} until ${row.leaseUntil?.toISOString() ?? 'now'}`);
  }
}
