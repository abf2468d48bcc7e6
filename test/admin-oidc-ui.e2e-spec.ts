import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, chromium } from 'playwright-core';
import { ADMIN_TOKEN, TestApp, freePort, startTestApp, uniqueId } from './support/test-app';
import { OidcTestProvider } from './support/oidc-provider';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.REQUIRE_BROWSER === '1') throw new Error(`${CHROMIUM} is required (REQUIRE_BROWSER=1)`);
const itWithBrowser = hasChromium ? it : it.skip;
const CLIENT_ID = 'onboarding-page';

/** The real sign-in through the operator page in Chromium: IdP round trip, name shown, a write audited, sign-out. */
describe('the operator page signed in at the identity provider, in headless Chromium', () => {
  const idp = new OidcTestProvider({ clientId: CLIENT_ID });
  let service: TestApp;
  let browser: Browser | undefined;

  beforeAll(async () => {
    const issuer = await idp.start();
    const port = await freePort();
    service = await startTestApp({ port, env: { ADMIN_OIDC_ISSUER: issuer, ADMIN_OIDC_CLIENT_ID: CLIENT_ID, ADMIN_PUBLIC_URL: `http://127.0.0.1:${port}` } });
    if (hasChromium) browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  });
  afterAll(async () => {
    await browser?.close();
    await service?.close();
    await idp.stop();
  });

  itWithBrowser('a shared #user= link opens that user after the sign-in at the identity provider', async () => {
    const externalUserId = uniqueId('ui-oidc-shared');
    expect((await service.call('POST', '/v1/users', { externalUserId })).status).toBe(201);
    idp.nextUser = { sub: 'sam', name: 'Sam Support', email: 'sam@example.com', roles: ['onboarding:viewer'] };
    const context = await browser!.newContext({ viewport: { width: 1280, height: 1100 } });
    const page = await context.newPage();
    await page.goto(`${service.url}/admin/ui#user=${encodeURIComponent(externalUserId)}`);
    await page.getByTestId('oidc-login').click();
    await page.getByTestId('operator-name').filter({ hasText: 'Sam Support' }).waitFor();
    await page.getByTestId('detail').waitFor();
    expect(await page.getByTestId('detail-id').textContent()).toBe(externalUserId);
    expect(new URL(page.url()).hash).toBe(`#user=${encodeURIComponent(externalUserId)}`);
    await context.close();
  });

  itWithBrowser('an operator signs in, sees their name, retries a signup (audited under their name), and signs out everywhere', async () => {
    const externalUserId = uniqueId('ui-oidc');
    expect((await service.call('POST', '/v1/users', { externalUserId })).status).toBe(201);
    idp.nextUser = { sub: 'olivia', name: 'Olivia Operator', email: 'olivia@example.com', roles: ['onboarding:operator'] };
    const context = await browser!.newContext({ viewport: { width: 1280, height: 1100 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    const byTestId = (id: string) => page.getByTestId(id);

    await page.goto(`${service.url}/admin/ui`);
    await byTestId('oidc-login').click();
    await byTestId('operator-name').filter({ hasText: 'Olivia Operator' }).waitFor();
    expect(page.url()).toBe(`${service.url}/admin/ui`);
    const session = (await context.cookies()).find((cookie) => cookie.name === 'capa_admin_session')!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/admin' });

    await page.locator(`[data-testid="signup-row"][data-external-user-id="${externalUserId}"]`).click();
    await byTestId('detail').waitFor();
    expect(await byTestId('retry').isVisible()).toBe(true);
    // CREATED: the retry button is disabled; KYC refresh is a write the operator may do.
    await byTestId('kyc-refresh').click();
    await byTestId('audit-refresh').click();
    await byTestId('audit-rows').getByText('user.kyc_refresh').waitFor();
    expect(await byTestId('audit-rows').textContent()).toContain('Olivia Operator (olivia)');
    const audit = await service.call('GET', `/admin/audit?target=${encodeURIComponent(`user:${externalUserId}`)}`, undefined, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(audit.body.items).toEqual([expect.objectContaining({ actor: { sub: 'olivia', name: 'Olivia Operator', email: 'olivia@example.com', via: 'oidc' }, action: 'user.kyc_refresh', outcome: 'succeeded' })]);

    mkdirSync(join(__dirname, 'artifacts'), { recursive: true });
    await page.screenshot({ path: join(__dirname, 'artifacts', 'admin-oidc-ui.png'), fullPage: true });

    await byTestId('logout').click();
    await byTestId('oidc-login').waitFor();
    const after = await service.call('GET', '/admin/me', undefined, { authorization: '', cookie: `${session.name}=${session.value}` });
    expect(after.status).toBe(401);
    expect(problems).toEqual([]);
    await context.close();
  });

  itWithBrowser('a viewer sees no write buttons', async () => {
    const externalUserId = uniqueId('ui-viewer');
    expect((await service.call('POST', '/v1/users', { externalUserId })).status).toBe(201);
    idp.nextUser = { sub: 'victor', name: 'Victor Viewer', roles: ['onboarding:viewer'] };
    const context = await browser!.newContext();
    const page = await context.newPage();
    await page.goto(`${service.url}/admin/ui`);
    await page.getByTestId('oidc-login').click();
    await page.getByTestId('operator-name').filter({ hasText: 'Victor Viewer' }).waitFor();
    await page.locator(`[data-testid="signup-row"][data-external-user-id="${externalUserId}"]`).click();
    await page.getByTestId('detail').waitFor();
    expect(await page.getByTestId('retry').isVisible()).toBe(false);
    expect(await page.getByTestId('kyc-refresh').isVisible()).toBe(false);
    await context.close();
  });
});
