import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, Page, chromium } from 'playwright-core';
import { ADMIN_TOKEN, uniqueId, useTestApp } from './support/test-app';
import { WEBHOOK_ENV, deliver, register } from './support/webhooks';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = join(__dirname, 'artifacts', 'admin-ui-timeline.png');
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.REQUIRE_BROWSER === '1') throw new Error(`${CHROMIUM} is required (REQUIRE_BROWSER=1)`);
const itWithBrowser = hasChromium ? it : it.skip;

/** Polled from here: a page-side waitForFunction evaluates a string, which the page's CSP (script-src 'self') forbids. */
async function waitUntil(page: Page, expression: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await page.evaluate(expression))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${expression}`);
    await page.waitForTimeout(50);
  }
}

const kinds = (page: Page) => page.evaluate(`[...document.querySelectorAll('[data-testid="timeline-row"]')].map((row) => row.dataset.kind)`);

describe('the operator page’s user timeline and shared #user= links, in headless Chromium', () => {
  const service = useTestApp({ env: WEBHOOK_ENV });
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (hasChromium) browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  itWithBrowser('opens a shared #user= link after sign-in and shows that user’s timeline; sections have links of their own', async () => {
    const shared = uniqueId('ui-timeline/#?');
    const other = uniqueId('ui-timeline-other');
    await register(service, shared);
    await register(service, other);
    await deliver(service, { type: 'KYC', event: 'VERIFIED_USER', externalUserId: shared });
    await deliver(service, { type: 'KYC', event: 'VERIFIED_USER', externalUserId: shared });

    const page = await browser!.newPage({ viewport: { width: 1280, height: 1600 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${service.url}/admin/ui#user=${encodeURIComponent(shared)}`);
    await page.getByTestId('token-input').fill(ADMIN_TOKEN);
    await page.getByTestId('login-submit').click();

    await page.getByTestId('detail').waitFor();
    await waitUntil(page, `document.querySelector('[data-testid="detail-id"]').textContent === ${JSON.stringify(shared)}`);
    await waitUntil(page, `document.querySelectorAll('[data-testid="timeline-row"]').length === 8`);
    expect(await kinds(page)).toEqual([
      'capa.webhook',
      'event',
      'kyc.status',
      'capa.webhook',
      'event',
      'signup.status',
      'capa.attempt',
      'signup.accepted',
    ]);
    const rows = page.getByTestId('timeline-rows').getByTestId('timeline-row');
    expect(await rows.first().textContent()).toContain('duplicate');
    expect(await rows.last().textContent()).toContain('Signup accepted through the API');
    expect(await page.getByTestId('detail-link').getAttribute('href')).toBe(`#user=${encodeURIComponent(shared)}`);

    // Each area has a section and a link to it; the webhook inbox is its own section, not inside event deliveries.
    const links = await page.evaluate(`[...document.querySelectorAll('[data-testid="sections"] a')].map((a) => a.getAttribute('href'))`);
    expect(links).toEqual(['#overview', '#signups', '#imports', '#events', '#webhooks', '#audit']);
    for (const section of ['signups', 'imports', 'events', 'webhooks']) expect(await page.locator(`section#${section}`).count()).toBe(1);
    expect(await page.locator('#events #webhooks').count()).toBe(0);
    mkdirSync(join(__dirname, 'artifacts'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // Another user's link, followed in the open page, switches the detail and its timeline.
    await page.goto(`${service.url}/admin/ui#user=${encodeURIComponent(other)}`);
    await waitUntil(page, `document.querySelector('[data-testid="detail-id"]').textContent === ${JSON.stringify(other)}`);
    await waitUntil(page, `document.querySelectorAll('[data-testid="timeline-row"]').length === 4`);
    expect(await kinds(page)).toEqual(['event', 'signup.status', 'capa.attempt', 'signup.accepted']);
    // A reload of that address, still signed in, opens the same detail again.
    await page.reload();
    await page.getByTestId('detail').waitFor();
    await waitUntil(page, `document.querySelector('[data-testid="detail-id"]').textContent === ${JSON.stringify(other)}`);
    await waitUntil(page, `document.querySelectorAll('[data-testid="timeline-row"]').length === 4`);

    // Opening a user from the list puts that user in the address; closing the detail takes it out.
    await page.getByTestId('search-input').fill(shared);
    await page.getByTestId('search-submit').click();
    await page.locator('[data-testid="signup-row"]').filter({ hasText: shared }).click();
    await waitUntil(page, `document.querySelector('[data-testid="detail-id"]').textContent === ${JSON.stringify(shared)}`);
    expect(new URL(page.url()).hash).toBe(`#user=${encodeURIComponent(shared)}`);
    await page.getByTestId('close-detail').click();
    expect(new URL(page.url()).hash).toBe('');
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);
});
