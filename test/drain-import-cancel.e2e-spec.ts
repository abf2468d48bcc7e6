import { ndjson, upload, waitForImport } from './support/imports';
import { useServiceCluster } from './support/service-cluster';
import { ServiceProcess } from './support/service-process';
import { request } from './support/test-app';

const CAPA_KEY = 'drain-cancel-capa-key-7a1b';
const ROWS = 37;

/** Each replica's environment (on top of useServiceCluster's). */
const REPLICA_ENV = {
  NODE_ENV: 'production',
  REQUEST_DEADLINE_MS: '8000',
  CAPA_TIMEOUT_MS: '10000',
  IMPORT_CAPA_RPS: '20',
  // ServiceProcess's own level (useServiceCluster's is warn), as before.
  LOG_LEVEL: 'info',
};

/**
 * An import in flight on a replica stopped with a short grace while Capa takes 8 s (it creates each user at once),
 * then the import is cancelled on another replica. Rows whose call was started must not be withdrawn: Capa may have
 * created their users, and a withdrawn row loses the userId for good.
 */
describe('SIGTERM with an import in flight, then POST /v1/imports/{id}/cancel', () => {
  const { simulator, start } = useServiceCluster({ databaseName: 'capa_drain_cancel', capaKey: CAPA_KEY, env: REPLICA_ENV });
  let draining: ServiceProcess;
  let api: ServiceProcess;

  beforeAll(async () => {
    [draining, api] = await Promise.all([
      start({ SHUTDOWN_GRACE_MS: '1000', WORKER_INTERVAL_MS: '50' }),
      // Serves the cancel; its workers find nothing at boot and then look again only minutes later.
      start({ WORKER_INTERVAL_MS: '600000' }),
    ]);
  });

  it('keeps every row whose call was started: each user Capa created has its row and userId here', async () => {
    simulator.setFaults({ firstCallLatencyMs: 8000 });
    const tag = `drain-cancel-${Date.now().toString(36)}`;
    const ids = Array.from({ length: ROWS }, (_, n) => `${tag}-${n}`);
    const answer = await upload(draining.url, ndjson(ids.map((externalUserId) => ({ externalUserId }))));
    expect(answer.status).toBe(202);
    const importId = answer.body.id as string;
    // Some calls are open (users created, answers still coming), other rows not yet sent.
    while (simulator.stats().usersCreated < 8) await new Promise((resolve) => setTimeout(resolve, 10));

    draining.signal('SIGTERM');
    expect(await draining.exited()).toEqual({ code: 0, signal: null });
    const cancelled = await request(api.url, 'POST', `/v1/imports/${importId}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('CANCELLED');

    // The replica comes back (a rolling deploy's new pod) and finishes the rows that were kept.
    await draining.spawn();
    const done = await waitForImport(api.url, importId, (view) => view.counts.pending === 0, 30_000);
    expect(done.counts.pending).toBe(0);

    const created = ids.filter((id) => simulator.userFor(id) !== undefined);
    expect(created.length).toBeGreaterThanOrEqual(8);
    for (const id of created) {
      const mapping = await request(api.url, 'GET', `/v1/users/${id}`);
      expect({ id, status: mapping.status, userId: mapping.body.userId }).toEqual({ id, status: 200, userId: simulator.userFor(id)?.userId });
    }
    expect(done.counts.created).toBe(created.length);
    expect(done.counts.created + done.counts.cancelled).toBe(ROWS);
    expect(simulator.overlappingCalls()).toEqual([]);
  }, 60_000);
});
