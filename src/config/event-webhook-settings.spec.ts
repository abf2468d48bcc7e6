import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { displayUrl, parseWebhookUrls, webhookSecretProblem } from './event-webhook-settings';

const secretOf = (bytes: number) => `whsec_${randomBytes(bytes).toString('base64')}`;

describe('event webhook settings', () => {
  it.each([
    [undefined, [], 0],
    ['', [], 0],
    ['http://127.0.0.1:4000/events', ['http://127.0.0.1:4000/events'], 0],
    [' https://a.internal/hook , http://b:8080/x ,', ['https://a.internal/hook', 'http://b:8080/x'], 0],
    ['http://a/x,http://a/x', ['http://a/x'], 0],
    ['ftp://a/x', [], 1],
    ['a.internal/hook', [], 1],
    ['javascript:alert(1)', [], 1],
    ['http://ok/x,not a url', ['http://ok/x'], 1],
  ])('URLs %p', (list, urls, problems) => {
    const parsed = parseWebhookUrls(list);
    expect(parsed.urls).toEqual(urls);
    expect(parsed.problems).toHaveLength(problems);
  });

  it('never echoes a rejected URL (it may hold a token)', () => {
    expect(parseWebhookUrls('ftp://user:hunter2@a/x').problems.join()).not.toContain('hunter2');
  });

  it.each([
    ['24 bytes', secretOf(24), false],
    ['32 bytes', secretOf(32), false],
    ['64 bytes', secretOf(64), false],
    ['no prefix', randomBytes(32).toString('base64'), true],
    ['23 bytes', secretOf(23), true],
    ['65 bytes', secretOf(65), true],
    ['not base64', 'whsec_not*base64*at*all*not*base64*at*all', true],
    ['empty after the prefix', 'whsec_', true],
  ])('secret with %s', (_name, secret, bad) => {
    const problem = webhookSecretProblem(secret);
    expect(problem === null).toBe(!bad);
    if (problem !== null) expect(problem).not.toContain(secret.slice(6) || '\u0000');
  });

  it('a secret it accepts is one the standardwebhooks package signs with', () => {
    const secret = secretOf(32);
    const webhook = new Webhook(secret);
    const signature = webhook.sign('msg_1', new Date(), '{}');
    expect(() => webhook.verify('{}', { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': signature })).not.toThrow();
  });

  it.each([
    ['http://127.0.0.1:4000/events', 'http://127.0.0.1:4000/events'],
    ['https://user:pass@hooks.internal/x?token=abc', 'https://hooks.internal/x?…'],
  ])('shows %s as %s', (url, shown) => {
    expect(displayUrl(url)).toBe(shown);
  });
});
