import { test, expect } from '@playwright/test';
import { available, rest, runFile, signIn, watchForFailures, hydrated } from './helpers';

test('buy a number from search to confirmation, then find it in the list and over REST', async ({ page, request }) => {
  const failures = watchForFailures(page);
  await signIn(page);
  await page.getByRole('link', { name: 'Buy a number' }).first().click();
  await expect(page.getByRole('heading', { name: 'Buy a number' })).toBeVisible();
  await page.getByLabel('Country').selectOption('GB');
  await page.getByLabel('Type').selectOption('mobile');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/country=GB/);
  await hydrated(page);

  const firstRow = page.locator('tbody tr').first();
  const e164 = (await firstRow.locator('.muted').first().innerText()).trim();
  await expect(firstRow).toContainText('£1.50');
  await expect(firstRow).toContainText('£3.00');
  await firstRow.getByRole('button', { name: /^Buy/ }).click();

  const dialog = page.getByRole('dialog');
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('Setup (once)');
  await expect(dialog).toContainText('£4.50'); // setup + first month
  await dialog.getByLabel('Attach to endpoint').selectOption({ label: 'Main SIP trunk' });
  await dialog.getByRole('button', { name: 'Buy for £4.50' }).click();

  await expect(page).toHaveURL(/\/numbers\/[0-9a-f-]{36}$/);
  await expect(page.getByText('You bought ' + e164)).toBeVisible();
  const id = page.url().split('/').pop()!;

  await page.getByRole('link', { name: 'Numbers', exact: true }).click();
  await expect(page.locator('tbody')).toContainText(e164);
  await expect(page.locator('tbody')).toContainText('Main SIP trunk');

  const res = await rest(request, runFile('demo-live-key'), 'GET', `/v1/phone-numbers/${id}`);
  expect(res.status()).toBe(200);
  const number = await res.json();
  expect(number.e164).toBe(e164);
  expect(number.status).toBe('active');
  expect(number.endpoint_id).not.toBeNull();
  expect(failures).toEqual([]);
});

test('two buyers of one number: one gets it, the other is told it was just sold', async ({ browser, request }) => {
  const a = await (await browser.newContext()).newPage();
  const b = await (await browser.newContext()).newPage();
  await signIn(a);
  await signIn(b);
  const target = (await available(request, runFile('demo-live-key'), 'US', 'toll_free'))[0];
  for (const page of [a, b]) {
    await page.goto('/buy?country=US&type=toll_free');
    await hydrated(page);
    await page.locator('tbody tr', { hasText: target.e164 }).getByRole('button', { name: /^Buy/ }).click();
    await expect(page.getByRole('dialog')).toBeVisible();
  }
  // The loser's refusal is a 409, never a server error.
  const failures = watchForFailures(b, (status) => status === 409);
  await a.getByRole('dialog').getByRole('button', { name: /^Buy for/ }).click();
  await expect(a).toHaveURL(/\/numbers\//);

  await b.getByRole('dialog').getByRole('button', { name: /^Buy for/ }).click();
  await expect(b.getByRole('dialog').getByRole('alert')).toContainText('was just sold');
  // The list behind was refreshed: the number is no longer for sale.
  await b.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
  await expect(b.locator('tbody')).not.toContainText(target.e164);
  expect(failures).toEqual([]);
});

test('a price that changed after it was shown is refused and nothing is bought', async ({ page, request }) => {
  await signIn(page);
  const key = runFile('demo-live-key');
  const before = (await (await rest(request, key, 'GET', '/v1/phone-numbers?limit=1')).json()).total;
  await page.goto('/buy?country=NG&type=mobile');
  await hydrated(page);
  // Tamper with the shown price the way a stale page would send it: through the same server function.
  await page.route('**/api/buy_number*', async (route) => {
    const body = route.request().postData()!.replace(/setup_cost_cents=\d+/, 'setup_cost_cents=1');
    await route.continue({ postData: body });
  });
  await page.locator('tbody tr').first().getByRole('button', { name: /^Buy/ }).click();
  await page.getByRole('dialog').getByRole('button', { name: /^Buy for/ }).click();
  await expect(page.getByRole('dialog').getByRole('alert')).toContainText('price of this number has changed');
  const after = (await (await rest(request, key, 'GET', '/v1/phone-numbers?limit=1')).json()).total;
  expect(after).toBe(before);
});

test('a keyboard-only purchase', async ({ page }) => {
  await signIn(page);
  await page.goto('/buy?country=US&type=local');
  await hydrated(page);
  // Tab to the first "Buy" button of the results, open the confirmation with Enter.
  const firstBuy = page.locator('tbody tr').first().getByRole('button', { name: /^Buy/ });
  for (let i = 0; i < 40 && !(await firstBuy.evaluate((el) => el === document.activeElement)); i++) {
    await page.keyboard.press('Tab');
  }
  await expect(firstBuy).toBeFocused();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog');
  await expect(dialog).toBeVisible();
  // Focus moved into the dialog; Escape closes it and focus returns to the button.
  await expect(dialog.locator(':focus')).toHaveCount(1);
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(firstBuy).toBeFocused();
  // Again, and this time Tab through the dialog (focus stays inside) to its Buy button.
  await page.keyboard.press('Enter');
  await expect(dialog).toBeVisible();
  const buy = dialog.getByRole('button', { name: /^Buy for/ });
  for (let i = 0; i < 10 && !(await buy.evaluate((el) => el === document.activeElement)); i++) {
    await page.keyboard.press('Tab');
    await expect(dialog.locator(':focus')).toHaveCount(1);
  }
  await expect(buy).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/numbers\//);
});

test('the confirmation holds the number while it is open, with the time left, and lets it go on cancel', async ({ page, request }) => {
  const failures = watchForFailures(page);
  const other = runFile('other-live-key');
  await signIn(page);
  const target = (await available(request, runFile('demo-live-key'), 'US', 'local'))[0];
  await page.goto(`/buy?country=US&type=local&contains=${target.e164.slice(2)}`);
  await hydrated(page);
  await page.locator('tbody tr', { hasText: target.e164 }).getByRole('button', { name: /^Buy/ }).click();
  const dialog = page.getByRole('dialog');
  const countdown = dialog.getByTestId('hold-countdown');
  await expect(countdown).toContainText(/Held for you for 1[45]:\d\d/);
  // It counts down.
  const first = await countdown.locator('strong').innerText();
  await expect(countdown.locator('strong')).not.toHaveText(first, { timeout: 3000 });

  // Meanwhile nobody else can buy it, or even see it for sale.
  const forOthers = async () => (await available(request, other, 'US', 'local')).map((n) => n.e164);
  expect(await forOthers()).not.toContain(target.e164);
  const refused = await rest(request, other, 'POST', '/v1/phone-numbers', { inventory_id: target.id });
  expect(refused.status()).toBe(409);

  // Cancelled: for sale to everyone again.
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  await expect.poll(forOthers).toContain(target.e164);
  expect(failures).toEqual([]);
});

test('several numbers bought in one order, with the summed price shown before confirming', async ({ page, request }) => {
  const failures = watchForFailures(page);
  const key = runFile('demo-live-key');
  await signIn(page);
  await page.goto('/buy?country=US&type=mobile');
  await hydrated(page);
  const forSale = await available(request, key, 'US', 'mobile');
  const three = forSale.slice(0, 3);
  for (const n of three) {
    await page.locator('tbody tr', { hasText: n.e164 }).getByRole('checkbox').check();
  }
  const bar = page.getByRole('region', { name: 'Selected numbers' });
  await expect(bar).toContainText('3 selected');
  // Setup plus the first month of each: 3 x ($1.00 + $1.50).
  await expect(bar.getByTestId('order-total')).toHaveText('$7.50');
  await bar.getByRole('button', { name: 'Buy 3 numbers' }).click();

  const dialog = page.getByRole('dialog');
  for (const n of three) await expect(dialog).toContainText(n.e164.slice(-4));
  await dialog.getByRole('button', { name: 'Buy all for $7.50' }).click();
  await expect(page.getByText('You bought 3 numbers')).toBeVisible();
  await expect(page).toHaveURL(/\/$/);

  const orders = await (await rest(request, key, 'GET', '/v1/number-orders?limit=1')).json();
  const newest = orders.data[0];
  expect(newest.total_cost_cents).toBe(750);
  expect(newest.numbers.map((n: { e164: string }) => n.e164)).toEqual(three.map((n) => n.e164));
  for (const n of three) await expect(page.locator('tbody')).toContainText(n.e164);
  expect(failures).toEqual([]);
});
