import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, Page, chromium } from 'playwright-core';
import { ndjson, upload } from './support/imports';
import { ADMIN_TOKEN, uniqueId, usersPath, useTestApp } from './support/test-app';
import { WEBHOOK_ENV, deliver, register } from './support/webhooks';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = join(__dirname, 'artifacts', 'admin-ui.png');
const hasChromium = existsSync(CHROMIUM);
// CI installs Chromium and sets REQUIRE_BROWSER=1: there a missing browser is a failure, not a skip.
if (!hasChromium && process.env.REQUIRE_BROWSER === '1') throw new Error(`${CHROMIUM} is required (REQUIRE_BROWSER=1)`);
if (!hasChromium) console.warn(`Skipping the operator page browser test: ${CHROMIUM} is not installed (.ci/run installs it).`);
const itWithBrowser = hasChromium ? it : it.skip;

/**
 * Waits until a page expression is true. Evaluated from here (over CDP, which the page's CSP does not govern): a
 * page-side waitForFunction that must poll evaluates its string with eval, which script-src 'self' refuses.
 */
async function waitUntil(page: Page, expression: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await page.evaluate(expression))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${expression}`);
    await page.waitForTimeout(50);
  }
}

/** Waits until the element with this test id shows exactly this text. */
function untilText(page: Page, testId: string, text: string): Promise<void> {
  const exactly = new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  return page.getByTestId(testId).filter({ hasText: exactly }).waitFor();
}

describe('the operator page at /admin/ui, in headless Chromium', () => {
  const service = useTestApp({ env: WEBHOOK_ENV });
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (hasChromium) {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
    }
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** Signs in with the admin key in a fresh browser context, finds the signup and opens its detail. */
  async function openDetail(externalUserId: string) {
    const context = await browser!.newContext();
    const page = await context.newPage();
    const byTestId = (id: string) => page.getByTestId(id);
    await page.goto(`${service.url}/admin/ui`);
    await byTestId('token-input').fill(ADMIN_TOKEN);
    await byTestId('login-submit').click();
    await byTestId('search-input').fill(externalUserId);
    await byTestId('search-submit').click();
    await page.locator(`[data-testid="signup-row"][data-external-user-id="${externalUserId}"]`).click();
    await byTestId('detail').waitFor();
    return { context, page, byTestId };
  }

  it('serves the page and its assets without a token, under the strict CSP, and nothing else from the folder', async () => {
    const page = await service.call('GET', '/admin/ui', undefined, { authorization: '' });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.body).toContain('<script src="/admin/ui/app.js" defer></script>');
    for (const script of ['app.js', 'chart.js', 'verification.js', 'imports.js']) {
      expect((await service.call('GET', `/admin/ui/${script}`, undefined, { authorization: '' })).headers.get('content-type')).toContain('javascript');
    }
    expect((await service.call('GET', '/admin/ui/app.css', undefined, { authorization: '' })).headers.get('content-type')).toContain('text/css');
    for (const path of ['/admin/ui/secret.txt', '/admin/ui/..%2Fadmin.module.ts', '/admin/ui/toString']) {
      const response = await service.call('GET', path, undefined, { authorization: '' });
      expect({ path, status: response.status, code: response.body.code }).toEqual({ path, status: 404, code: 'NOT_FOUND' });
    }
  });

  itWithBrowser('logs in, shows stats and chart, finds a FAILED signup, opens it and retries it to CREATED', async () => {
    const externalUserId = uniqueId('ui-failed');
    service.simulator.setFaults({ script: [{ kind: 'status', status: 400, body: { statusCode: 400, message: 'Provided email is not valid', error: 'BAD_REQUEST' } }] });
    expect((await service.call('POST', '/v1/users', { externalUserId, method: 'EMAIL', identifier: 'ops@capa.fi' })).status).toBe(422);
    service.simulator.setFaults({});
    for (let index = 0; index < 3; index++) await service.call('POST', '/v1/users', { externalUserId: uniqueId('ui-created') });

    const context = await browser!.newContext({ viewport: { width: 1280, height: 1100 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    const byTestId = (id: string) => page.getByTestId(id);

    await page.goto(`${service.url}/admin/ui`);
    await byTestId('token-input').fill('wrong-token');
    await byTestId('login-submit').click();
    await byTestId('error').getByText('not accepted').waitFor();
    expect(await byTestId('login').isVisible()).toBe(true);
    problems.length = 0; // the 401 above is logged by the browser as a failed resource

    await byTestId('token-input').fill(ADMIN_TOKEN);
    await byTestId('login-submit').click();
    await untilText(page, 'stat-total', '4');
    expect(await byTestId('stat-FAILED').textContent()).toBe('1');
    expect(await byTestId('stat-CREATED').textContent()).toBe('3');
    expect(await byTestId('stat-capa-calls').textContent()).toBe('4 (0 failed)');
    expect(await byTestId('stat-capa-circuit').textContent()).toBe('closed');
    expect(await page.locator('[data-testid="chart-svg"] rect[data-status="CREATED"]').count()).toBeGreaterThan(0);
    expect(await byTestId('signup-row').count()).toBe(4);

    await byTestId('search-input').fill(externalUserId.slice(0, -1));
    await byTestId('status-filter').selectOption('FAILED');
    await byTestId('search-submit').click();
    const row = page.locator(`[data-testid="signup-row"][data-external-user-id="${externalUserId}"]`);
    // The row is already in the unfiltered list: wait for the filtered list to replace it, not for the row.
    await waitUntil(page, `document.querySelectorAll('[data-testid="signup-row"]').length === 1`, 5000);
    expect(await byTestId('signup-row').count()).toBe(1);
    await row.waitFor();

    await row.click();
    await byTestId('detail').waitFor();
    expect(await byTestId('detail-id').textContent()).toBe(externalUserId);
    expect(await byTestId('detail-status').textContent()).toBe('FAILED');
    expect(await byTestId('detail-error').textContent()).toContain('Provided email is not valid');
    expect(await byTestId('attempt-row').count()).toBe(1);
    expect(await byTestId('resolve').isEnabled()).toBe(true);

    await byTestId('retry').click();
    await untilText(page, 'detail-status', 'CREATED');
    const userId = service.simulator.userFor(externalUserId)!.userId;
    expect(await byTestId('detail-user-id').textContent()).toBe(userId);
    expect(await byTestId('attempt-row').count()).toBe(2);
    expect(await byTestId('attempt-row').first().textContent()).toContain('operator');
    expect(await byTestId('retry').isDisabled()).toBe(true);
    await untilText(page, 'stat-CREATED', '4');

    mkdirSync(join(__dirname, 'artifacts'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(problems).toEqual([]);
    await context.close();
  });

  itWithBrowser('shows the API error message, e.g. when resolving with a malformed userId, and resolves with a good one', async () => {
    const externalUserId = uniqueId('ui-attention');
    service.simulator.setFaults({ script: [{ kind: 'status', status: 409, body: { message: 'User already exists' } }] });
    expect((await service.call('POST', '/v1/users', { externalUserId })).status).toBe(202);
    service.simulator.setFaults({});

    const { context, page, byTestId } = await openDetail(externalUserId);
    expect(await byTestId('detail-status').textContent()).toBe('NEEDS_ATTENTION');

    await byTestId('resolve').click();
    await byTestId('resolve-input').fill('not-a-uuid');
    await byTestId('resolve-submit').click();
    await byTestId('error').getByText('userId must be a UUID').waitFor();

    const userId = '9486244c-ff7d-4c22-9984-797179d7deaa';
    await byTestId('resolve-input').fill(userId);
    await byTestId('resolve-submit').click();
    await untilText(page, 'detail-status', 'CREATED');
    expect(await byTestId('detail-user-id').textContent()).toBe(userId);
    expect(await byTestId('error').isHidden()).toBe(true);
    await context.close();
  });

  itWithBrowser('erases a user\'s personal data after a confirm step; the detail shows when, and no identifier or alias', async () => {
    const externalUserId = uniqueId('ui-erase');
    const created = await service.call('POST', '/v1/users', { externalUserId, method: 'EMAIL', identifier: 'ui.erase@example.com', alias: 'Ursula Erase' });
    expect(created.status).toBe(201);

    const { context, page, byTestId } = await openDetail(externalUserId);
    expect(await byTestId('detail-erased-at').textContent()).toBe('—');
    expect(await byTestId('detail-fields').textContent()).toContain('Ursula Erase');

    // The first click only asks; "Keep" leaves everything as it was.
    await byTestId('erase').click();
    await byTestId('erase-form').waitFor();
    await byTestId('erase-cancel').click();
    expect(await byTestId('erase-form').isHidden()).toBe(true);
    expect((await service.call('GET', usersPath(externalUserId))).body.erasedAt).toBeNull();

    await byTestId('erase').click();
    await byTestId('erase-confirm').click();
    await waitUntil(page, `document.querySelector('[data-testid="detail-erased-at"]').textContent !== '—'`, 5000);
    const erased = (await service.call('GET', usersPath(externalUserId))).body;
    expect(erased).toMatchObject({ identifier: null, alias: null, erasedAt: expect.any(String) });
    const fields = await byTestId('detail-fields').textContent();
    expect(fields).not.toContain('Ursula Erase');
    expect(fields).not.toContain('ui.erase@example.com');
    expect(await byTestId('erase').isDisabled()).toBe(true);
    expect(await byTestId('error').isHidden()).toBe(true);
    await context.close();
  });

  itWithBrowser('shows KYC status in the list (filterable), the KYC history in the detail, refreshes it, and the webhook inbox', async () => {
    const verified = uniqueId('ui-kyc-verified');
    const other = uniqueId('ui-kyc-other');
    await register(service, verified);
    await register(service, other);
    await deliver(service, { type: 'KYC', event: 'CREATED_KYC', externalUserId: verified });
    await deliver(service, { type: 'KYC', event: 'VERIFIED_USER', externalUserId: verified });
    await deliver(service, { type: 'KYC', event: 'VERIFIED_USER', externalUserId: verified });
    await deliver(service, 'not json');

    const context = await browser!.newContext({ viewport: { width: 1280, height: 1400 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    const byTestId = (id: string) => page.getByTestId(id);
    await page.goto(`${service.url}/admin/ui`);
    await byTestId('token-input').fill(ADMIN_TOKEN);
    await byTestId('login-submit').click();

    await byTestId('search-input').fill('ui-kyc-');
    await byTestId('kyc-filter').selectOption('VERIFIED');
    await byTestId('search-submit').click();
    await waitUntil(page, `document.querySelectorAll('[data-testid="signup-row"]').length === 1`, 5000);
    const row = page.locator(`[data-testid="signup-row"][data-external-user-id="${verified}"]`);
    expect(await row.getByTestId('signup-kyc').textContent()).toBe('VERIFIED');

    await row.click();
    await byTestId('detail').waitFor();
    expect(await byTestId('detail-kyc').textContent()).toContain('KYC VERIFIED');
    expect(await byTestId('kyc-history-row').count()).toBe(3);
    expect(await byTestId('kyc-history-row').first().textContent()).toContain('duplicate');

    // Capa's verdict changed without a webhook reaching the service: the operator refreshes it.
    service.simulator.verification.recordEvent(verified, 'REJECTED_KYC');
    await byTestId('kyc-refresh').click();
    await byTestId('detail-kyc').getByText('KYC REJECTED').waitFor();
    expect(await byTestId('attempt-row').first().textContent()).toContain('kyc-details');

    await byTestId('webhook-outcome').selectOption('unreadable');
    await byTestId('webhook-submit').click();
    await waitUntil(page, `[...document.querySelectorAll('[data-testid="webhook-row"]')].every((row) => row.textContent.includes('unreadable'))`, 5000);
    expect(await byTestId('webhook-row').first().textContent()).toContain('not json');
    expect(await byTestId('webhook-row').first().textContent()).toContain('webhook');
    expect(await byTestId('reconciliation-summary').textContent()).toContain('no run yet');
    expect(Number(await byTestId('webhook-stat-received').textContent())).toBeGreaterThanOrEqual(4);
    expect(Number(await byTestId('webhook-stat-duplicate').textContent())).toBeGreaterThanOrEqual(1);

    await page.screenshot({ path: join(__dirname, 'artifacts', 'admin-ui-kyc.png'), fullPage: true });
    expect(problems).toEqual([]);
    await context.close();
  });

  itWithBrowser('shows imports with their progress and row errors, and cancels a running one', async () => {
    const tag = uniqueId('ui-import');
    const rows: unknown[] = Array.from({ length: 400 }, (_, i) => ({ externalUserId: `${tag}-${i}` }));
    rows.splice(2, 0, { externalUserId: `${tag}-bad`, method: 'EMAIL', identifier: 'not-an-email' }, 'not json');
    const created = await upload(service.url, ndjson(rows));
    expect(created.status).toBe(202);

    const context = await browser!.newContext({ viewport: { width: 1400, height: 1100 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    const byTestId = (id: string) => page.getByTestId(id);
    await page.goto(`${service.url}/admin/ui`);
    await byTestId('token-input').fill(ADMIN_TOKEN);
    await byTestId('login-submit').click();

    const row = page.locator(`[data-testid="import-row"][data-import-id="${created.body.id}"]`);
    await row.waitFor();
    expect(await row.getByTestId('import-status').textContent()).toBe('RUNNING');
    expect(await row.getByTestId('import-counts').textContent()).toContain('invalid 2');
    // The page refreshes itself: the bar moves as rows are registered at Capa (IMPORT_CAPA_RPS, 10/s by default).
    // Polled from here: a page-side waitForFunction that has to poll evaluates a string, which the page's CSP forbids.
    const progress = row.getByTestId('import-progress');
    const rowsDone = async () => Number(await progress.getAttribute('aria-valuenow'));
    for (const deadline = Date.now() + 15_000; (await rowsDone()) <= 5 && Date.now() < deadline; ) await page.waitForTimeout(200);
    expect(await rowsDone()).toBeGreaterThan(5);

    await row.getByTestId('import-errors').click();
    await byTestId('import-errors-panel').waitFor();
    expect(await byTestId('import-error-row').count()).toBe(2);
    expect(await byTestId('import-error-row').first().textContent()).toContain('3');
    expect(await byTestId('import-error-row').first().textContent()).toContain('identifier');
    expect(await byTestId('import-error-row').nth(1).textContent()).toContain('MALFORMED_JSON');

    await row.getByTestId('import-cancel').click();
    await untilText(page, 'import-status', 'CANCELLED');
    expect(await row.getByTestId('import-cancel').isDisabled()).toBe(true);
    const view = (await service.call('GET', `/v1/imports/${created.body.id}`)).body;
    expect(view.status).toBe('CANCELLED');
    expect(view.counts.cancelled).toBeGreaterThan(300);
    await page.screenshot({ path: join(__dirname, 'artifacts', 'admin-ui-imports.png'), fullPage: true });
    expect(problems).toEqual([]);
    await context.close();
  }, 60_000);
});
