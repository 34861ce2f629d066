import { test, expect } from '@playwright/test';
import { baseURL } from '../playwright.config';
import { DEMO, hydrated, signIn, watchForFailures } from './helpers';

test('every page hydrates under the Content-Security-Policy, with no violation', async ({ page }) => {
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to (execute|load|apply|connect|compile)/i.test(m.text())) violations.push(m.text());
  });
  const failures = watchForFailures(page, (status, url) => status === 404 && url.includes('/numbers/'));
  await signIn(page);
  for (const path of ['/', '/buy', '/api-keys', '/endpoints', '/webhooks', '/numbers/00000000-0000-4000-8000-000000000000']) {
    const res = await page.goto(path);
    const policy = res!.headers()['content-security-policy'];
    expect(policy, path).toContain("'nonce-");
    expect(policy, path).not.toContain('unsafe-inline');
    await hydrated(page);
  }
  // A lazily loaded page's code arrives after hydration: go there by the app's own link.
  await page.goto('/');
  await hydrated(page);
  await page.getByRole('link', { name: 'API keys' }).first().click();
  await expect(page.getByRole('heading', { name: 'API keys' })).toBeVisible();
  expect(violations).toEqual([]);
  expect(failures).toEqual([]);
});

test('the dashboard refuses to be shown inside another site\'s frame', async ({ page, context }) => {
  await signIn(page);
  const attacker = await context.newPage();
  await attacker.setContent(`<h1>Win a prize</h1><iframe src="${baseURL}/api-keys" width="800" height="600"></iframe>`);
  await attacker.waitForTimeout(1_500);
  await expect(attacker.frameLocator('iframe').getByRole('heading', { name: 'API keys' })).toHaveCount(0);
  await expect(attacker.getByRole('heading', { name: 'Win a prize' })).toBeVisible();
});

test('after signing in, a crafted next= never leaves the site', async ({ page }) => {
  await page.goto('/sign-in?next=' + encodeURIComponent('/\t/127.0.0.1:3999/x'));
  await hydrated(page);
  await page.getByLabel('Email').fill(DEMO.email);
  await page.getByLabel('Password').fill(DEMO.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(`${baseURL}/`);
  await expect(page.getByRole('heading', { name: 'Numbers', exact: true })).toBeVisible();
});
