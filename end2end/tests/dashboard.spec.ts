import { test, expect } from '@playwright/test';
import { available, hydrated, rest, runFile, signIn } from './helpers';

test('on a phone the header folds into a menu button that keyboards open', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await signIn(page);
  const header = page.locator('header.top');
  const menu = header.locator('summary', { hasText: 'Menu' });
  const buyLink = header.getByRole('link', { name: 'Buy a number' });
  // One row: the brand, the menu button and sign-out; the links wait in the menu.
  const box = await header.boundingBox();
  expect(box!.height).toBeLessThan(80);
  await expect(menu).toBeVisible();
  await expect(buyLink).toBeHidden();
  await expect(header.getByRole('button', { name: 'Sign out' })).toBeVisible();

  await menu.focus();
  await page.keyboard.press('Enter');
  await expect(buyLink).toBeVisible();
  await expect(header.getByRole('button', { name: 'Switch to test mode' })).toBeVisible();
  await page.keyboard.press('Tab');
  await expect(header.getByRole('link', { name: 'Numbers', exact: true })).toBeFocused();
  await buyLink.click();
  await expect(page).toHaveURL(/\/buy$/);
  await expect(buyLink).toBeHidden();
  await context.close();
});

test('on a wide screen the header shows everything, with no menu button', async ({ page }) => {
  await signIn(page);
  await expect(page.locator('header.top summary')).toBeHidden();
  await expect(page.locator('header.top').getByRole('link', { name: 'Webhooks' })).toBeVisible();
  await expect(page.locator('header.top').getByRole('button', { name: 'Switch to test mode' })).toBeVisible();
});

test('the numbers page sums up what is owned, and its country filter names the countries owned', async ({ page, request }) => {
  const key = runFile('demo-live-key');
  const inv = (await available(request, key, 'GB', 'local'))[0];
  expect((await rest(request, key, 'POST', '/v1/phone-numbers', { inventory_id: inv.id })).status()).toBe(201);
  const owned = (await (await rest(request, key, 'GET', '/v1/phone-numbers?limit=1')).json()).total;

  await signIn(page);
  const summary = page.getByRole('region', { name: 'Summary' });
  await expect(summary).toContainText(`Numbers owned${owned}`);
  await expect(summary).toContainText('£');
  await expect(summary.getByRole('img', { name: /Numbers by country and type/ })).toBeVisible();

  const country = page.locator('form.filters select[name="country"]');
  await expect(country.locator('option', { hasText: 'United Kingdom of Great Britain and Northern Ireland (GB)' })).toHaveCount(1);
  await country.selectOption('GB');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/country=GB/);
  await hydrated(page);
  await expect(page.locator('tbody')).toContainText(inv.e164);
  await expect(page.locator('tbody')).not.toContainText('+1');
});

test('the buy page names its countries, with flags, sorted by name', async ({ page }) => {
  await signIn(page);
  await page.goto('/buy');
  await hydrated(page);
  const names = await page.getByLabel('Country').locator('option').allInnerTexts();
  expect(names.length).toBeGreaterThan(1);
  expect(names.some((n) => /^🇬🇧 United Kingdom.*\(GB\)$/.test(n))).toBe(true);
  const byName = names.map((n) => n.replace(/^\S+ /, ''));
  expect(byName).toEqual([...byName].sort((a, b) => a.localeCompare(b)));
});
