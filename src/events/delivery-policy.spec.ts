import { resultOfError, resultOfStatus, retryDelayMs } from './delivery-policy';

const policy = { baseMs: 1000, capMs: 300_000, maxRetryAfterMs: 300_000 };

describe('event delivery policy', () => {
  it.each([
    [200, true],
    [201, true],
    [204, true],
    [299, true],
    [301, false],
    [304, false],
    [400, false],
    [410, false],
    [429, false],
    [500, false],
    [503, false],
  ])('HTTP %i acknowledges: %p', (status, acknowledged) => {
    expect(resultOfStatus(status)).toEqual(acknowledged ? { acknowledged: true } : { acknowledged: false, error: `HTTP ${status}`, httpStatus: status });
  });

  it.each([
    ['a timeout', Object.assign(new Error('t'), { name: 'TimeoutError' }), 'no answer within 5000 ms'],
    ['an abort', Object.assign(new Error('a'), { name: 'AbortError' }), 'no answer within 5000 ms'],
    ['a refused connection', Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }), 'connection failed (ECONNREFUSED)'],
    ['a refused connection (undici request)', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'connection failed (ECONNREFUSED)'],
    ['a socket closed mid-answer', Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }), 'connection failed (UND_ERR_SOCKET)'],
    ['anything else', new Error('https://user:secret@x/ boom'), 'connection failed'],
  ])('%s is a retryable error, without the URL', (_name, error, message) => {
    expect(resultOfError(error, 5000)).toEqual({ acknowledged: false, error: message });
  });

  it.each([
    [1, 0.999, 999],
    [2, 0.999, 1998],
    [5, 0.5, 8000],
    [9, 0.999, 255_744],
    [10, 0.999, 299_700],
    [40, 0.999, 299_700],
    [3, 0, 0],
  ])('retry %i with random %p waits %i ms (full jitter under base * 2^(n-1), capped)', (attempts, random, delay) => {
    expect(retryDelayMs(policy, attempts, () => random)).toBe(delay);
  });
});
