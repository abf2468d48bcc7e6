import helmet from 'helmet';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HELMET_OPTIONS, securityHeaders } from './security-headers';

describe('securityHeaders', () => {
  it('equals what helmet itself sets on a real response', async () => {
    const middleware = helmet(HELMET_OPTIONS);
    const server = createServer((request, response) => middleware(request, response, () => response.end('ok')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const answer = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      const fromHelmet = Object.fromEntries(
        [...answer.headers.entries()].filter(([name]) => !['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'].includes(name)),
      );
      expect(securityHeaders()).toEqual(fromHelmet);
      expect(securityHeaders()).toMatchObject({ 'x-content-type-options': 'nosniff', 'content-security-policy': expect.stringContaining("script-src 'self'") });
      expect(Object.isFrozen(securityHeaders())).toBe(true);
    } finally {
      server.close();
    }
  });

});
