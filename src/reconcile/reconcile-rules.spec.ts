import type { NotificationSummary } from '../capa/notification-calls';
import { oldestFirst, retryAnswer, retryCandidates } from './reconcile-rules';

const summary = (id: string, createdAt: string | null, manualRetryCount: number | null = 0): NotificationSummary => ({
  id,
  status: 'FAILED',
  eventType: 'CREATED_KYC',
  retryAttempts: 6,
  manualRetryCount,
  createdAt,
});

describe('reconcile rules', () => {
  it('applies oldest first by createdAt; ties and unreadable times by the listing (newest first there)', () => {
    const listed = [
      summary('c', '2026-12-01T00:00:03.000Z'),
      summary('tie-newer', '2026-12-01T00:00:02.000Z'),
      summary('tie-older', '2026-12-01T00:00:02.000Z'),
      summary('a', '2026-12-01T00:00:01.000Z'),
      summary('unknown-newer', null),
      summary('unknown-older', 'not a time'),
    ];
    const ordered = oldestFirst(listed.map((detail, listIndex) => ({ detail: { ...detail, payload: null }, listIndex })));
    expect(ordered.map((item) => item.detail.id)).toEqual(['a', 'tie-older', 'tie-newer', 'c', 'unknown-older', 'unknown-newer']);
  });

  it('retries oldest first, never a notification Capa says was retried 3 times', () => {
    const listed = [summary('new', '2026-12-01T00:00:02.000Z', 2), summary('done', '2026-12-01T00:00:01.500Z', 3), summary('old', '2026-12-01T00:00:01.000Z', null)];
    expect(retryCandidates(listed).map((item) => item.id)).toEqual(['old', 'new']);
  });

  it.each([
    [{ kind: 'answered', value: true, httpStatus: 201 }, { outcome: 'accepted', rateLimited: false }],
    [{ kind: 'rejected', httpStatus: 409, errorCode: 'CONFLICT', errorMessage: '' }, { outcome: 'refused', rateLimited: false }],
    [{ kind: 'transient', httpStatus: 429, errorCode: 'TOO_MANY_REQUESTS', errorMessage: '' }, { outcome: 'refused', rateLimited: true }],
    [{ kind: 'transient', httpStatus: null, errorCode: 'TIMEOUT', errorMessage: '' }, { outcome: 'error', rateLimited: false }],
    [{ kind: 'misconfigured', httpStatus: 401, errorCode: 'UNAUTHORIZED', errorMessage: '' }, { outcome: 'error', rateLimited: false }],
    [{ kind: 'rejected', httpStatus: 404, errorCode: 'NOT_FOUND', errorMessage: '' }, { outcome: 'error', rateLimited: false }],
  ] as const)('a retry answered %j counts as %j', (outcome, expected) => {
    expect(retryAnswer(outcome)).toEqual(expected);
  });
});
