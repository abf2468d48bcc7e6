import { setTimeout as sleep } from 'node:timers/promises';
import type { CapaCallOptions, CapaGateway } from '../capa/capa.gateway';
import type { CapaOutcome } from '../capa/capa-outcome';
import { BACKGROUND_BACKOFF } from '../config/backoff';
import type { AppConfig } from '../config/app-config';
import type { AppMetrics } from '../metrics/app-metrics';
import type { SignupRepository } from './signup.repository';
import type { SignupRecord } from './signup.types';
import { SignupsService } from './signups.service';
import type { DatabaseNotifications } from '../persistence/database-notifications';

const row = (owner: string): SignupRecord =>
  ({ id: 1n, externalUserId: 'drain-1', status: 'PENDING', method: 'NONE', identifier: null, userType: null, alias: null, attemptCount: 0, leaseOwner: owner }) as SignupRecord;

/** What happened, in order: the drain's contract is about the order of the call's end and the lease's release. */
function fixture() {
  const events: string[] = [];
  const repository = {
    markCallStarted: async () => (events.push('call-started-committed'), true),
    recordAttempt: async (_id: bigint, _actor: string, attempt: { errorCode: string | null }) => void events.push(`attempt:${attempt.errorCode}`),
    applyTransition: async (_id: bigint, _owner: string, transition: { status: string; retryInMs?: number }) => {
      events.push(`settle:${transition.status}:${transition.retryInMs}`);
      return row('none');
    },
    releaseLeases: async (owners: string[]) => (owners.length > 0 && events.push(`release:${owners.join(',')}`), 0),
    findByExternalUserId: async () => row('none'),
  };
  // Capa never answers: the call ends only when its signal aborts it.
  const gateway = {
    createUser: (_request: unknown, options: CapaCallOptions) =>
      new Promise<CapaOutcome>((resolve) => {
        events.push('call-open');
        options.signal?.addEventListener('abort', () => {
          events.push('call-ended');
          const outcome: CapaOutcome = { kind: 'transient', httpStatus: null, errorCode: 'ABORTED', errorMessage: 'aborted' };
          void Promise.resolve(options.onAttempt({ at: new Date(), outcome: 'transient', httpStatus: null, latencyMs: 1, errorCode: 'ABORTED', errorMessage: 'aborted', userId: null })).then(() => resolve(outcome));
        });
      }),
  };
  const notifications = { live: false, subscribe: () => undefined } as unknown as DatabaseNotifications;
  const config = { requestDeadlineMs: 5000, backgroundBackoff: BACKGROUND_BACKOFF } as unknown as AppConfig;
  const service = new SignupsService(repository as unknown as SignupRepository, gateway as unknown as CapaGateway, config, {} as AppMetrics, notifications);
  return { service, events };
}

describe('SignupsService.drainDrives', () => {
  it('waits for a claim in progress, aborts its drive at the cut-off, and lets the lease go only after the call ended', async () => {
    const { service, events } = fixture();
    let leased: (rows: SignupRecord[]) => void = () => undefined;
    const claimed = service.claim(
      () => new Promise<SignupRecord[]>((resolve) => (leased = resolve)),
      (rows) => rows.forEach((claimedRow) => void service.drive(claimedRow, Date.now() + 60_000, 'worker')),
    );
    const drained = service.drainDrives(300);
    // The claim statement answers after the drain began (as an import worker's may).
    await sleep(50);
    leased([row('i:1')]);
    await claimed;

    expect(await drained).toEqual({ finished: 0, cutOff: 1, stillCalling: 0 });
    expect(events).toEqual(['call-started-committed', 'call-open', 'call-ended', 'attempt:ABORTED', 'settle:PENDING:0']);
    // Nothing more is claimed once the drain has begun.
    let ran = false;
    expect(await service.claim(async () => ((ran = true), [row('i:2')]), () => undefined)).toEqual([]);
    expect(ran).toBe(false);
  });
});
