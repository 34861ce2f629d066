import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { available, hydrated, OTHER, rest, runFile, signIn, TEAM, watchForFailures } from './helpers';

test('test mode is clearly marked and shows only test data', async ({ page, request }) => {
  await signIn(page);
  await expect(page.getByText('Test mode: you are seeing test data')).toHaveCount(0);
  await page.getByRole('button', { name: 'Switch to test mode' }).click();
  await expect(page.getByText('Test mode: you are seeing test data')).toBeVisible();

  // A test number bought over REST with the test key shows in test mode only.
  const testKey = runFile('demo-api-key');
  const inv = (await available(request, testKey, 'GB', 'local'))[0];
  const bought = await (await rest(request, testKey, 'POST', '/v1/phone-numbers', { inventory_id: inv.id })).json();
  await page.goto('/');
  await hydrated(page);
  await expect(page.locator('main')).toContainText(bought.e164);

  await page.getByRole('button', { name: 'Switch to live mode' }).click();
  await expect(page.getByText('Test mode: you are seeing test data')).toHaveCount(0);
  await expect(page.locator('main')).not.toContainText(bought.e164);
  await page.goto(`/numbers/${bought.id}`);
  await expect(page.getByRole('alert')).toContainText('not found');
});

test('a user never sees another organization\'s numbers', async ({ page, request }) => {
  const otherKey = runFile('other-live-key');
  const inv = (await available(request, otherKey, 'US', 'mobile'))[0];
  const theirs = await (await rest(request, otherKey, 'POST', '/v1/phone-numbers', { inventory_id: inv.id })).json();
  expect(theirs.e164).toBeTruthy();

  await signIn(page);
  await expect(page.locator('main')).not.toContainText(theirs.e164);
  await page.goto(`/numbers/${theirs.id}`);
  await expect(page.getByRole('alert')).toContainText('not found');

  // Their own user does see it.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, OTHER);
  await expect(page.locator('main')).toContainText(theirs.e164);
});

test('works on a phone-sized screen', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await signIn(page);
  for (const path of ['/', '/buy?country=US', '/api-keys', '/endpoints', '/webhooks']) {
    await page.goto(path);
    await hydrated(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, `${path} scrolls sideways`).toBeLessThanOrEqual(0);
  }
  await page.goto('/buy?country=US&type=local');
  // The Buy button opens its dialog once the page's wasm chunks have loaded and hydrated it.
  await hydrated(page);
  await page.locator('tbody tr').first().getByRole('button', { name: /^Buy/ }).click();
  const box = await page.getByRole('dialog').boundingBox();
  expect(box!.x).toBeGreaterThanOrEqual(0);
  expect(box!.x + box!.width).toBeLessThanOrEqual(375);
});

test('every page passes an axe-core scan with no serious or critical violations', async ({ page, request }) => {
  const key = runFile('demo-live-key');
  const inv = (await available(request, key, 'NG', 'local'))[0];
  const n = await (await rest(request, key, 'POST', '/v1/phone-numbers', { inventory_id: inv.id })).json();
  const scan = async (label: string) => {
    const result = await new AxeBuilder({ page }).analyze();
    const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(bad.map((v) => `${label}: ${v.id} ${v.help} (${v.nodes.map((x) => x.target.join(' ')).join(', ')})`)).toEqual([]);
  };
  await page.goto('/sign-in');
  await hydrated(page);
  await scan('sign-in');
  await signIn(page);
  for (const path of ['/', '/buy', '/buy?country=US', `/numbers/${n.id}`, '/api-keys', '/endpoints', '/webhooks']) {
    await page.goto(path);
    await hydrated(page);
    await scan(path);
  }
  await page.goto('/buy?country=US');
  await hydrated(page);
  await page.locator('tbody tr').first().getByRole('button', { name: /^Buy/ }).click();
  await scan('purchase dialog');
});

test('a member of two organizations switches between them, and the choice is kept', async ({ page }) => {
  const failures = watchForFailures(page);
  await signIn(page, TEAM, '/api-keys');
  const organization = page.getByLabel('Organization');
  await expect(organization.locator('option:checked')).toHaveText('Team Organization');
  await expect(page.getByRole('cell', { name: 'team live', exact: true })).toBeVisible();
  await expect(page.getByRole('cell', { name: 'other live', exact: true })).toHaveCount(0);

  await organization.selectOption({ label: 'Other Organization' });
  await page.getByRole('button', { name: 'Switch', exact: true }).click();
  await expect(organization.locator('option:checked')).toHaveText('Other Organization');
  await expect(page).toHaveURL(/\/api-keys$/);
  await expect(page.getByRole('cell', { name: 'other live', exact: true })).toBeVisible();
  await expect(page.getByRole('cell', { name: 'team live', exact: true })).toHaveCount(0);

  // Kept for the session: a new page load shows the same organization.
  await page.goto('/api-keys');
  await hydrated(page);
  await expect(organization.locator('option:checked')).toHaveText('Other Organization');
  await expect(page.getByRole('cell', { name: 'other live', exact: true })).toBeVisible();
  expect(failures).toEqual([]);
});
