import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { AppConfig } from '../config/app-config';
import type { AdminGate } from './admin-gate';
import { UnauthorizedError } from './api-error';
import { BearerAuthGuard, Public, RequiresToken } from './bearer-auth.guard';

/** A route as the guard sees it: its controller class, its handler, and the request's headers. */
function contextFor(controller: new () => object, handler: string, headers: Record<string, string> = {}): ExecutionContext {
  return {
    getClass: () => controller,
    getHandler: () => (controller.prototype as Record<string, unknown>)[handler],
    switchToHttp: () => ({ getRequest: () => ({ headers }) }),
  } as unknown as ExecutionContext;
}

/** A controller someone forgot to mark: the e2e route listing cannot show this case, since every route today is marked. */
class Unmarked {
  forgotten(): void {}
}

class Marked {
  @Public() open(): void {}
  @RequiresToken('admin') guarded(): void {}
}

describe('BearerAuthGuard: deny by default', () => {
  /** The admin gate (operators/) decides admin routes; this stand-in admits only the admin token. */
  const gate: AdminGate = {
    admit: async (request) => {
      if (request.headers.authorization !== 'Bearer admin-token') throw new UnauthorizedError();
    },
  };
  const guard = new BearerAuthGuard(new Reflector(), { inboundApiKeys: ['in-token'] } as unknown as AppConfig, gate);

  it('refuses a route with neither @Public nor @RequiresToken, whatever token it carries', () => {
    const tokens: Array<Record<string, string>> = [{}, { authorization: 'Bearer in-token' }, { authorization: 'Bearer admin-token' }];
    for (const headers of tokens) {
      expect(() => guard.canActivate(contextFor(Unmarked, 'forgotten', headers))).toThrow(UnauthorizedError);
    }
  });

  it('lets a @Public route through, and a @RequiresToken route only with a token of its audience', async () => {
    expect(guard.canActivate(contextFor(Marked, 'open'))).toBe(true);
    await expect(guard.canActivate(contextFor(Marked, 'guarded'))).rejects.toThrow(UnauthorizedError);
    await expect(guard.canActivate(contextFor(Marked, 'guarded', { authorization: 'Bearer in-token' }))).rejects.toThrow(UnauthorizedError);
    await expect(guard.canActivate(contextFor(Marked, 'guarded', { authorization: 'Bearer admin-token' }))).resolves.toBe(true);
  });
});
