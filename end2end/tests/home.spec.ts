import { test, expect } from '@playwright/test';

test('the home page is server-rendered, then hydrated so its controls work', async ({ page }) => {
  const failures: string[] = [];
  page.on('pageerror', (e) => failures.push(e.message));
  page.on('response', (r) => { if (r.status() >= 400) failures.push(`${r.status()} ${r.url()}`); });

  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Kros Numbers' })).toBeVisible();

  // The example only appears through the hydrated click handler.
  const toggle = page.getByRole('button', { name: 'Show an API example' });
  await expect(async () => {
    await toggle.click();
    await expect(page.locator('#api-example')).toBeVisible({ timeout: 500 });
  }).toPass();
  await expect(page.getByRole('button', { name: 'Hide the example' })).toHaveAttribute('aria-expanded', 'true');
  expect(failures).toEqual([]);
});

test('the REST API answers the demo key printed by seed-demo', async ({ request }) => {
  const fs = await import('node:fs');
  const key = fs.readFileSync(`${__dirname}/../.run/demo-api-key`, 'utf8').trim();
  const res = await request.get('/v1/phone-numbers?action=available&country=US&limit=1', {
    headers: { Authorization: `Bearer ${key}` },
  });
  expect(res.status()).toBe(200);
  const body = await res.json();
  expect(body.limit).toBe(1);
  expect(body.data[0].country).toBe('US');
});
