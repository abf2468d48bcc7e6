import { acceptedItem, toTimelineItem } from './timeline-items';

const at = new Date('2026-12-05T10:00:00.000Z');

describe('timeline items', () => {
  it('signup.accepted says where the signup came from', () => {
    const api = acceptedItem({ id: 1n, createdAt: at, importId: null });
    expect(toTimelineItem(api.key, api.facts)).toEqual({ at: at.toISOString(), kind: 'signup.accepted', summary: 'Signup accepted through the API', details: { source: 'api', importId: null } });
    const imported = acceptedItem({ id: 1n, createdAt: at, importId: 'a1' });
    expect(toTimelineItem(imported.key, imported.facts).details).toEqual({ source: 'import', importId: 'a1' });
  });

  it('keeps only the named facts: nothing else a row holds reaches the answer', () => {
    const item = toTimelineItem({ at, source: 'attempt', id: 1n }, {
      operation: 'create', outcome: 'created', httpStatus: 201, latencyMs: 35, errorCode: null, by: 'worker', identifier: 'a@b.example', errorMessage: 'a@b.example exists',
    });
    expect(item).toEqual({
      at: at.toISOString(),
      kind: 'capa.attempt',
      summary: 'Capa create call by the worker: created (HTTP 201, 35 ms)',
      details: { operation: 'create', outcome: 'created', httpStatus: 201, latencyMs: 35, errorCode: null, by: 'worker' },
    });
  });

  it('shows an endpoint without its credentials or query string', () => {
    const item = toTimelineItem({ at, source: 'pastDelivery', id: 3n }, {
      eventId: 'e1', eventType: 'signup.created', endpoint: 'https://user:pass@hooks.example/events?token=abc', attempt: 1, outcome: 'failed', httpStatus: 503, error: 'HTTP 503',
    });
    expect(item.details.endpoint).toBe('https://hooks.example/events?…');
    expect(JSON.stringify(item)).not.toMatch(/pass|token=abc/);
    expect(item.summary).toBe('signup.created pushed to https://hooks.example/events?…: attempt 1 failed (HTTP 503)');
  });

  it('names a link by kind and country, a status change, a KYC change and its cause', () => {
    expect(toTimelineItem({ at, source: 'link', id: 1n }, { operation: 'kyb-link', country: 'MX' })).toMatchObject({ kind: 'verification.link_issued', details: { kind: 'KYB', country: 'MX' } });
    expect(toTimelineItem({ at, source: 'status', id: 1n }, { from: null, to: 'CREATED' }).summary).toBe('Status ? → CREATED');
    expect(toTimelineItem({ at, source: 'kyc', id: 1n }, { from: 'IN_PROGRESS', to: 'VERIFIED', capaEvent: null }).summary).toBe('KYC status IN_PROGRESS → VERIFIED (refreshed from Capa)');
  });

  it('tells a signed webhook from a notification read back from Capa (reconcile), and names an operator action', () => {
    const signed = toTimelineItem({ at, source: 'webhook', id: 1n }, { type: 'KYC', event: 'VERIFIED_USER', outcome: 'applied', kycStatus: 'VERIFIED', source: 'webhook', notificationId: null });
    expect(signed).toMatchObject({ kind: 'capa.webhook', summary: 'Capa webhook VERIFIED_USER: applied', details: { source: 'webhook' } });
    const readBack = toTimelineItem({ at, source: 'webhook', id: 2n }, { type: 'KYC', event: 'REJECTED_KYC', outcome: 'applied', kycStatus: 'REJECTED', source: 'reconciled', notificationId: 'n-7' });
    expect(readBack).toMatchObject({ kind: 'reconcile', summary: 'Capa notification n-7 read back (REJECTED_KYC): applied', details: { source: 'reconciled', notificationId: 'n-7' } });
    const action = toTimelineItem({ at, source: 'operator', id: 3n }, { action: 'user.resolve', outcome: 'failed', actor: 'sub-1', actorName: 'Ada', via: 'oidc', statusCode: 409, code: 'USER_ID_ALREADY_ATTACHED' });
    expect(action).toMatchObject({ kind: 'operator.action', summary: 'Operator Ada (oidc): user.resolve failed (USER_ID_ALREADY_ATTACHED)' });
  });

  it('says an erasure happened, and nothing of what was erased', () => {
    const item = toTimelineItem({ at, source: 'erasure', id: 9n }, { erasedAt: at.toISOString(), identifier: 'a@b.example', alias: 'Ana' });
    expect(item).toEqual({ at: at.toISOString(), kind: 'erasure', summary: 'Personal data erased (identifier and alias)', details: { erasedAt: at.toISOString() } });
  });
});
