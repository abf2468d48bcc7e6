import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, chromium } from 'playwright-core';
import { usePushingApp } from './support/event-push';
import { EventReceiver, eventually, newWebhookSecret } from './support/event-receiver';
import { ADMIN_TOKEN, uniqueId } from './support/test-app';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = join(__dirname, 'artifacts', 'admin-ui-events.png');
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.REQUIRE_BROWSER === '1') throw new Error(`${CHROMIUM} is required (REQUIRE_BROWSER=1)`);
const itWithBrowser = hasChromium ? it : it.skip;
const SECRET = newWebhookSecret();

describe('the operator page’s event deliveries section, in headless Chromium', () => {
  const receiver = new EventReceiver(SECRET);
  receiver.failing = true;
  const { service } = usePushingApp([receiver], { EVENT_RETRY_BASE_MS: '50', EVENT_RETRY_MAX_MS: '100', EVENT_RETRY_WINDOW_MS: '1000', EVENT_DELIVERY_INTERVAL_MS: '50' });
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (hasChromium) browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  });

  afterAll(async () => {
    await browser?.close();
  });

  itWithBrowser('shows backlog, lag and a FAILED delivery per endpoint, and redelivers it', async () => {
    const externalUserId = uniqueId('ui-event');
    expect((await service.call('POST', '/v1/users', { externalUserId })).status).toBe(201);
    const failedCount = async () =>
      (await service.call('GET', '/admin/stats', undefined, { authorization: `Bearer ${ADMIN_TOKEN}` })).body.events.failed === 1;
    expect(await eventually(failedCount, 15_000)).toBe(true);

    const page = await browser!.newPage({ viewport: { width: 1280, height: 1600 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${service.url}/admin/ui`);
    await page.getByTestId('token-input').fill(ADMIN_TOKEN);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('events-failed').filter({ hasText: /^1$/ }).waitFor();
    expect(await page.getByTestId('endpoint-rows').textContent()).toContain(receiver.url);

    await page.getByTestId('delivery-status').selectOption('FAILED');
    await page.getByTestId('delivery-submit').click();
    const row = page.getByTestId('delivery-rows').locator('tr').filter({ hasText: externalUserId });
    await row.filter({ hasText: 'FAILED' }).waitFor();
    expect(await row.textContent()).toContain('HTTP 500');
    mkdirSync(join(__dirname, 'artifacts'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    receiver.failing = false;
    await row.getByTestId('redeliver').click();
    expect(await eventually(() => receiver.delivered.some((delivery) => delivery.body.externalUserId === externalUserId))).toBe(true);
    await page.getByTestId('delivery-status').selectOption('DELIVERED');
    await page.getByTestId('delivery-submit').click();
    await page.getByTestId('delivery-rows').locator('tr').filter({ hasText: externalUserId }).filter({ hasText: 'DELIVERED' }).waitFor();
    expect(problems).toEqual([]);
  }, 60_000);
});
