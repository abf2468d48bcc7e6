import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CapaGateway } from '../capa/capa.gateway';
import { NotFoundError } from '../common/api-error';
import { waitAtMost } from '../common/deadline';
import { INSTANCE_ID } from '../common/instance-id';
import { AppConfig } from '../config/app-config';
import { AppMetrics } from '../metrics/app-metrics';
import { DatabaseNotifications } from '../persistence/database-notifications';
import { SignupRepository } from './signup.repository';
import { AttemptActor, Lease } from './signup-rows';
import { MAPPING_CHANGED, MappingCache, cachedMappingOf } from './mapping-cache';
import { ExternalUserIdConflictError, PayloadErasedError, SignupAnswer, answerFor, replayAnswer } from './signup-answer';
import { capaRequestFor, fingerprintAgainst, saltedFingerprint } from './signup-request';
import { decideOnRepeat, isLeaseFree, transitionFor } from './signup-state';
import { SignupRecord, SignupRequest, toMapping } from './signup.types';
import { Drive, DrainResult, LEASE_MARGIN_MS } from './drive';
import { reportUnattachedUserId } from './user-id-conflicts';

/** Races (a row changing between read and conditional write) are re-decided at most this often. */
const MAX_ROUNDS = 20;
const MAX_POLL_MS = 200;
/** After the cut-off aborts the calls left, how long the drain waits for them to end (an aborted request ends at once). */
const ABORT_WAIT_MS = 3000;

/**
 * The idempotent create flow. The row is committed PENDING before Capa is called; the unique key on
 * externalUserId and the lease columns decide who calls Capa, across requests, workers and replicas.
 */
@Injectable()
export class SignupsService {
  private readonly logger = new Logger(SignupsService.name);
  /** Drives in progress in this process by externalUserId, so local duplicates wait on a promise instead of polling. */
  private readonly inFlight = new Map<string, Promise<SignupRecord>>();
  /** Drives in progress in this process by lease owner: what shutdown waits for, and whose leases it releases. */
  private readonly drives = new Map<string, Drive>();
  /** The workers' claim statements in progress: rows they lease become drives the drain must know about. */
  private readonly claims = new Set<Promise<unknown>>();
  /** Set when the drain begins: workers claim nothing more. */
  private closing = false;
  /** Set at the cut-off: a drive not yet calling Capa does not start. */
  private cutOff = false;
  /** CREATED mappings answered from memory, kept fresh by `mapping_changed` at commit; bypassed while not listening. */
  readonly cache: MappingCache;

  constructor(
    private readonly repository: SignupRepository,
    private readonly gateway: CapaGateway,
    private readonly config: AppConfig,
    private readonly metrics: AppMetrics,
    notifications: DatabaseNotifications,
  ) {
    const cache = new MappingCache(config.mappingCacheMaxEntries, () => notifications.live);
    notifications.subscribe(MAPPING_CHANGED, { changed: (externalUserId) => cache.forget(externalUserId), gap: () => cache.forgetAll() });
    this.cache = cache;
  }

  async register(request: SignupRequest, requestId?: string): Promise<SignupAnswer> {
    const cached = this.cache.get(request.externalUserId);
    if (cached !== undefined) {
      // A CREATED mapping: the same payload is a replay, another one a conflict (decideOnRepeat), nothing to store.
      if (cached.fingerprint === saltedFingerprint(request.fingerprint, cached.fingerprintSalt)) return replayAnswer(cached.json);
      throw new ExternalUserIdConflictError(request.externalUserId);
    }
    const deadline = Date.now() + this.config.requestDeadlineMs;
    let row: SignupRecord | null = null;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      if (row === null) {
        // Most often a new signup: the insert comes first (not a read, then an insert); ON CONFLICT it does nothing.
        const inserted = await this.repository.insertPending(request, this.newLease(deadline));
        if (inserted !== null) return this.driveAndAnswer(inserted, deadline, 'request', requestId, true);
        const read = this.cache.beginRead();
        row = await this.find(request.externalUserId);
        if (row?.status === 'CREATED') {
          const json = JSON.stringify(toMapping(row));
          this.cache.remember(row.externalUserId, cachedMappingOf(row, json), read);
          if (row.fingerprint === fingerprintAgainst(row, request)) return replayAnswer(json);
        }
        continue;
      }
      const now = row.observedAt ?? new Date();
      switch (decideOnRepeat(row, fingerprintAgainst(row, request), now)) {
        case 'replay':
          return this.answer(row, false, now);
        case 'conflict':
          throw new ExternalUserIdConflictError(request.externalUserId);
        case 'replace-failed': {
          const taken = await this.repository.replaceFailed(row, request, this.newLease(deadline), new Date());
          if (taken !== null) return this.driveAndAnswer(taken, deadline, 'request', requestId);
          break;
        }
        case 'claim': {
          const taken = await this.repository.claimPending(row.id, this.newLease(deadline), new Date());
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
   * The mapping as `GET /v1/users/{id}` shows it, as JSON text: a CREATED one from memory once read (the cache hears
   * of every change to it, on whichever replica, at commit), any other from the database.
   */
  async mappingJson(externalUserId: string): Promise<string> {
    const cached = this.cache.get(externalUserId);
    if (cached !== undefined) return cached.json;
    const read = this.cache.beginRead();
    const row = await this.get(externalUserId);
    const json = JSON.stringify(toMapping(row));
    if (row.status === 'CREATED') this.cache.remember(externalUserId, cachedMappingOf(row, json), read);
    return json;
  }

  /** The stored row, always read from the database (operators see it as it is now). */
  async get(externalUserId: string): Promise<SignupRecord> {
    const row = await this.find(externalUserId);
    if (row === null) throw new NotFoundError(`No signup for externalUserId ${JSON.stringify(externalUserId)}`);
    return row;
  }

  /**
   * An operator's "retry now": FAILED / NEEDS_ATTENTION / unleased PENDING rows are driven at once (one round of
   * attempts within the request deadline). A row another drive holds is left to it: `held`, with the row as it is.
   */
  async retryNow(externalUserId: string, requestId?: string): Promise<{ held: boolean; row: SignupRecord }> {
    const row = await this.get(externalUserId);
    if (row.status === 'CREATED') return { held: false, row };
    // Its payload is gone: Capa would be sent no identifier. A corrected payload through POST /v1/users takes it over.
    if ((row.erasedAt ?? null) !== null) throw new PayloadErasedError(row);
    const deadline = Date.now() + this.config.requestDeadlineMs;
    const taken = await this.repository.takeForRedrive(row.id, this.newLease(deadline), new Date());
    if (taken === null) {
      const current = await this.get(externalUserId);
      return { held: current.status !== 'CREATED', row: current };
    }
    return { held: false, row: await this.drive(taken, deadline, 'operator', requestId) };
  }

  /**
   * Calls Capa for a row whose lease this drive holds (`row.leaseOwner`, unique to it), records every attempt, and
   * applies the outcome. Answers the row as it stands afterwards (also when another owner settled it meanwhile).
   */
  drive(row: SignupRecord, deadline: number, actor: AttemptActor, requestId?: string, inserted = false): Promise<SignupRecord> {
    const owner = row.leaseOwner;
    if (owner === null) throw new Error(`Signup ${row.externalUserId} is driven without a lease`);
    const entry: Drive = { done: undefined as unknown as Promise<SignupRecord>, abort: new AbortController(), calling: false, inserted };
    if (this.cutOff) entry.abort.abort();
    const drive = this.callCapaAndSettle(row, owner, deadline, actor, requestId, entry).finally(() => {
      if (this.inFlight.get(row.externalUserId) === drive) this.inFlight.delete(row.externalUserId);
      this.drives.delete(owner);
    });
    entry.done = drive;
    this.inFlight.set(row.externalUserId, drive);
    this.drives.set(owner, entry);
    return drive;
  }

  /**
   * A worker's claim (signups, imports): the statement that leases rows and `start`, which makes each row a drive,
   * tracked together so the drain waits until every row leased in this process is a drive it knows. Once the drain
   * has begun, nothing more is claimed (answers [] without running the statement).
   */
  async claim<T>(statement: () => Promise<T[]>, start: (rows: T[]) => void): Promise<T[]> {
    if (this.closing) return [];
    const claim = statement().then((rows) => {
      start(rows);
      return rows;
    });
    this.claims.add(claim);
    try {
      return await claim;
    } finally {
      this.claims.delete(claim);
    }
  }

  /**
   * Shutdown: no more claims; waits up to `graceMs` for the claims and drives in progress. Then the cut-off: each drive
   * left has its Capa call aborted, and only once that call has ended is its lease released (by the drive itself, due
   * at once), so another replica never calls Capa for the row while this one's call may still be running.
   */
  async drainDrives(graceMs: number): Promise<DrainResult> {
    const until = Date.now() + graceMs;
    this.closing = true;
    await waitAtMost(Promise.allSettled([...this.claims]), until - Date.now());
    const before = this.drives.size;
    await this.waitForDrives(until);
    this.cutOff = true;
    const cut = [...this.drives.values()];
    for (const drive of cut) drive.abort.abort();
    await this.waitForDrives(Date.now() + ABORT_WAIT_MS);
    // A drive still here but not calling Capa (waiting for a connection to record or settle) may be let go of now.
    const stuck = [...this.drives.entries()];
    const notCalling = stuck.filter(([, drive]) => !drive.calling).map(([owner]) => owner);
    await this.repository.releaseLeases(notCalling, new Date());
    const stillCalling = stuck.length - notCalling.length;
    return { finished: Math.max(0, before - cut.length), cutOff: cut.length - stillCalling, stillCalling };
  }

  /** Until no drive is left or the time is up; drives that start meanwhile (a request still running) are waited for too. */
  private async waitForDrives(until: number): Promise<void> {
    while (this.drives.size > 0 && Date.now() < until) {
      await waitAtMost(Promise.allSettled([...this.drives.values()].map((drive) => drive.done)), until - Date.now());
    }
  }

  private async driveAndAnswer(row: SignupRecord, deadline: number, actor: AttemptActor, requestId?: string, inserted = false): Promise<SignupAnswer> {
    const settled = await this.drive(row, deadline, actor, requestId, inserted);
    return this.answer(settled, settled.status === 'CREATED', new Date());
  }

  private async callCapaAndSettle(row: SignupRecord, owner: string, deadline: number, actor: AttemptActor, requestId: string | undefined, drive: Drive): Promise<SignupRecord> {
    // The fact an import cancel reads, committed before the call; false when this drive's lease is gone: no call then.
    // A row the request just inserted skips it (Drive.inserted); its settle records that the call was made.
    if (!drive.inserted && !(await this.repository.markCallStarted(row.id, owner))) return this.get(row.externalUserId);
    const { signal } = drive.abort;
    if (signal.aborted) {
      // Cut off before calling: nothing is in flight, so the lease goes at once.
      await this.repository.releaseLeases([owner], new Date());
      return this.get(row.externalUserId);
    }
    let attempts = 0;
    drive.calling = true;
    const outcome = await this.gateway.createUser(capaRequestFor(row), {
      signal,
      deadline,
      requestId,
      // A signup Capa was already asked about is retried, paid from the retry budget; an operator's re-drive is not.
      retry: actor !== 'operator' && row.attemptCount > 0,
      background: actor === 'worker',
      // The ImportWorker paid one IMPORT_CAPA_RPS token for this drive: one call; a transient outcome is retried later, for a new token.
      maxAttempts: actor === 'worker' && (row.importId ?? null) !== null ? 1 : undefined,
      onAttempt: async (attempt) => {
        attempts += 1;
        await this.repository.recordAttempt(row.id, actor, attempt);
      },
    }).finally(() => (drive.calling = false));
    const computed = transitionFor(outcome, row.attemptCount + attempts, this.config.backgroundBackoff);
    // Cut off: the call has ended, so the row is due again at once, for another replica.
    const transition = signal.aborted && computed.status === 'PENDING' ? { ...computed, retryInMs: 0 } : computed;
    const settled =
      transition.status === 'CREATED'
        ? await this.attachUserId(row, transition.userId, attempts)
        : await this.repository.applyTransition(row.id, owner, transition, attempts, new Date());
    return settled ?? (await this.get(row.externalUserId));
  }

  /** A userId from Capa always wins; one that cannot be attached is already on its attempt row, and shouted about. */
  private async attachUserId(row: SignupRecord, userId: string, attempts: number): Promise<SignupRecord | null> {
    const settlement = await this.repository.settleCreated(row.id, userId, attempts, new Date());
    reportUnattachedUserId(settlement, row.externalUserId, userId, this.metrics, this.logger);
    return settlement.row;
  }

  private answer(row: SignupRecord, createdByThisRequest: boolean, now: Date): SignupAnswer {
    return answerFor(row, createdByThisRequest, row.observedAt ?? now);
  }

  private find(externalUserId: string): Promise<SignupRecord | null> {
    return this.repository.findByExternalUserId(externalUserId);
  }

  /** Waits for another owner's drive: on the local promise if it is ours, else by polling the row. */
  private async waitUntilSettled(row: SignupRecord, deadline: number): Promise<SignupRecord> {
    let current = row;
    let pollMs = 10;
    while (current.status === 'PENDING' && !isLeaseFree(current, current.observedAt ?? new Date())) {
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

  /** A lease for one new drive: an owner value no other drive has, lasting until past the drive's deadline. */
  private newLease(deadline: number): Lease {
    return { owner: `${INSTANCE_ID}:${randomUUID()}`, ms: Math.max(0, deadline - Date.now()) + LEASE_MARGIN_MS };
  }
}
