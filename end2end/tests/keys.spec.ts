import { test, expect } from '@playwright/test';
import { hydrated, rest, signIn, watchForFailures } from './helpers';

test('create an API key, use it over REST, revoke it, and REST refuses it', async ({ page, request }) => {
  const failures = watchForFailures(page);
  await signIn(page);
  await page.getByRole('link', { name: 'API keys' }).click();
  await hydrated(page);
  await page.getByLabel('Name').fill('CI robot');
  await page.getByLabel('Mode').selectOption('live');
  await page.getByRole('button', { name: 'Create key' }).click();
  await expect(page.getByText('you will not see it again')).toBeVisible();
  const key = (await page.getByTestId('new-api-key').innerText()).trim();
  expect(key).toMatch(/^kros_live_/);

  const row = page.locator('tbody tr', { hasText: 'CI robot' });
  await expect(row).toContainText('live');
  await expect(row).toContainText(key.split('_').slice(0, 3).join('_'));
  expect((await rest(request, key, 'GET', '/v1/phone-numbers')).status()).toBe(200);
  await page.reload();
  await expect(page.locator('tbody tr', { hasText: 'CI robot' })).not.toContainText('Never');

  await hydrated(page);
  await page.locator('tbody tr', { hasText: 'CI robot' }).getByRole('button', { name: 'Revoke CI robot' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Revoke key' }).click();
  await expect(page.locator('tbody tr', { hasText: 'CI robot' })).toContainText('Revoked');
  const refused = await rest(request, key, 'GET', '/v1/phone-numbers');
  expect(refused.status()).toBe(401);
  expect((await refused.json()).error.code).toBe('unauthorized');
  expect(failures).toEqual([]);
});

test('create an endpoint and attach numbers to it', async ({ page }) => {
  await signIn(page);
  await page.getByRole('link', { name: 'Endpoints' }).click();
  await hydrated(page);
  await page.getByLabel('Name').fill('Night shift');
  await page.getByRole('button', { name: 'Create endpoint' }).click();
  await expect(page.getByText('Endpoint Night shift created')).toBeVisible();
  await expect(page.locator('.list')).toContainText('Night shift');
  await page.reload();
  await expect(page.locator('.list')).toContainText('Night shift');
});
