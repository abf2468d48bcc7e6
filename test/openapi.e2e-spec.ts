import { startTestApp, TestApp, ADMIN_TOKEN } from './support/test-app';
let t: TestApp;
beforeAll(async () => { t = await startTestApp(); });
afterAll(async () => { await t?.close(); });
it('probes', async () => {
  const a = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const big = JSON.stringify({ userId: 'x'.repeat(20000) });
  const probes: [string, string, any, any][] = [
    ['GET', '/v1/users/' + 'x'.repeat(200), undefined, {}],
    ['GET', '/v1/users/%20', undefined, {}],
    ['GET', '/v1/users/nope', undefined, {}],
    ['POST', '/admin/users/nope/resolve', 'hello', { ...a, 'content-type': 'text/plain' }],
    ['POST', '/admin/users/nope/resolve', big, { ...a, 'content-type': 'application/json' }],
    ['POST', '/admin/users/nope/resolve', '{bad', { ...a, 'content-type': 'application/json' }],
    ['POST', '/admin/users/nope/resolve', { userId: 'u1' }, a],
    ['POST', '/admin/users/nope/retry', undefined, a],
    ['POST', '/admin/users/nope/retry', 'x', { ...a, 'content-type': 'text/plain' }],
    ['GET', '/admin/users?limit=1000', undefined, a],
    ['GET', '/admin/users?status=BAD', undefined, a],
    ['GET', '/admin/users/' + 'x'.repeat(200), undefined, a],
    ['GET', '/admin/stats', undefined, {}],
    ['GET', '/metrics', undefined, {}],
    ['GET', '/health/ready', undefined, {}],
    ['POST', '/v1/users', { externalUserId: 'a b' }, {}],
    ['POST', '/v1/users', {  }, {authorization: 'Bearer ' + ADMIN_TOKEN}],
    ['GET', '/admin/ui', undefined, {}],
  ];
  for (const [m, p, b, h] of probes) {
    const r = await t.call(m, p, b, h);
    console.log(m, p.slice(0, 60), r.status, r.headers.get('content-type'), JSON.stringify(r.body).slice(0, 150));
  }
});
