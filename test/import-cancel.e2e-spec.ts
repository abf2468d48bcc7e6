import { ndjson, upload, waitForImport } from './support/imports';
import { ADMIN_TOKEN, useTestApp } from './support/test-app';

describe('POST /v1/imports/{id}/cancel', () => {
  const service = useTestApp({ env: { IMPORT_CAPA_RPS: '10', CAPA_TIMEOUT_MS: '3000', REQUEST_DEADLINE_MS: '4000' } });

  it('withdraws the rows not yet sent; rows already sent finish normally', async () => {
    const tag = `cancel-${Date.now()}`;
    // Calls take a while, so some rows are in flight (leased, no attempt yet) when the cancel arrives.
    service.simulator.setFaults({ latencyMs: 400 });
    const answer = await upload(service.url, ndjson(Array.from({ length: 300 }, (_, i) => ({ externalUserId: `${tag}-${i}` }))));
    expect(answer.status).toBe(202);
    await waitForImport(service.url, answer.body.id, (view) => view.counts.created >= 10);

    const cancelled = await service.call('POST', `/v1/imports/${answer.body.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('CANCELLED');
    expect(cancelled.body.finishedAt).not.toBeNull();
    const inFlight = cancelled.body.counts.pending;
    expect(cancelled.body.counts.cancelled).toBeGreaterThan(200);
    expect(inFlight).toBeLessThanOrEqual(10);

    const done = await waitForImport(service.url, answer.body.id, (view) => view.counts.pending === 0, 20_000);
    const { counts } = done;
    expect(done.status).toBe('CANCELLED');
    expect(counts.created + counts.cancelled).toBe(300);
    expect(counts.cancelled).toBe(cancelled.body.counts.cancelled);
    // Withdrawn rows are gone and never reach Capa: one call per row that stayed.
    const callsAfter = service.simulator.stats().requests;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(service.simulator.stats().requests).toBe(callsAfter);
    const { rows } = await service.query(`SELECT count(*)::int AS n FROM signups WHERE external_user_id LIKE $1`, [`${tag}-%`]);
    expect(rows[0].n).toBe(counts.created);
    expect(service.simulator.stats().usersCreated).toBe(counts.created);

    // Cancelling again changes nothing.
    const again = await service.call('POST', `/v1/imports/${answer.body.id}/cancel`, undefined, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(again.status).toBe(401);
    const viaAdmin = await service.call('POST', `/admin/imports/${answer.body.id}/cancel`, undefined, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(viaAdmin.body.counts).toEqual(counts);
  }, 60_000);

  it('a corrected payload takes over a FAILED signup, as POST /v1/users does', async () => {
    const tag = `failed-${Date.now()}`;
    service.simulator.setFaults({ script: [{ kind: 'status', status: 400 }] });
    const rejected = await service.call('POST', '/v1/users', { externalUserId: `${tag}-1`, method: 'EMAIL', identifier: 'old@example.com' });
    expect(rejected.status).toBe(422);
    service.simulator.setFaults({});
    const answer = await upload(service.url, ndjson([{ externalUserId: `${tag}-1`, method: 'EMAIL', identifier: 'new@example.com' }]));
    expect(answer.body.counts).toMatchObject({ rows: 1, conflicts: 0, alreadyRegistered: 0, invalid: 0 });
    const done = await waitForImport(service.url, answer.body.id, (view) => view.status === 'COMPLETED', 20_000);
    expect(done.counts).toMatchObject({ created: 1, pending: 0 });
    expect((await service.call('GET', `/v1/users/${tag}-1`)).body).toMatchObject({ status: 'CREATED', identifier: 'new@example.com' });
  }, 30_000);
});
