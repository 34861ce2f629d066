import { test, expect } from '@playwright/test';
import { DEMO, hydrated, signIn, watchForFailures } from './helpers';

test('signed out, every page redirects to sign-in and comes back after signing in', async ({ page }) => {
  for (const path of ['/', '/buy', '/api-keys', '/endpoints', '/webhooks', '/numbers/00000000-0000-4000-8000-000000000000']) {
    await page.goto(path);
    await expect(page).toHaveURL(/\/sign-in\?next=/);
    await expect(page.getByRole('heading', { name: 'Sign in to Kros Numbers' })).toBeVisible();
  }
  await page.goto('/api-keys');
  await hydrated(page);
  await page.getByLabel('Email').fill(DEMO.email);
  await page.getByLabel('Password').fill(DEMO.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/api-keys$/);
  await expect(page.getByRole('heading', { name: 'API keys' })).toBeVisible();
});

test('a wrong password is refused with a message that does not tell whether the email exists', async ({ page }) => {
  const failures = watchForFailures(page, (status) => status === 401);
  await page.goto('/sign-in');
  await hydrated(page);
  await page.getByLabel('Email').fill(DEMO.email);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const alert = page.getByRole('alert');
  await expect(alert).toHaveText('The email or password is incorrect.');

  // The refusal reloads the page (a plain form post): the password is asked for again.
  await expect(page).toHaveURL(/\/sign-in\?next=%2F&failed=1$/);
  await page.getByLabel('Email').fill('nobody@example.com');
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(alert).toHaveText('The email or password is incorrect.');
  await page.goto('/');
  await expect(page).toHaveURL(/\/sign-in/);
  expect(failures).toEqual([]);
});

test('sign in with the demo login, then sign out: the session ends on both doors', async ({ page, context, request }) => {
  const failures = watchForFailures(page);
  await signIn(page);
  await expect(page.getByRole('heading', { name: 'Numbers', exact: true })).toBeVisible();
  const cookie = (await context.cookies()).find((c) => c.name === 'kros_session');
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe('Lax');
  const bearer = { headers: { Authorization: `Bearer ${cookie!.value}` } };
  expect((await request.get('/v1/phone-numbers', bearer)).status()).toBe(200);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/sign-in/);
  await page.goto('/');
  await expect(page).toHaveURL(/\/sign-in/);
  // The old token, kept by someone who copied it, no longer works: not as a REST Bearer token,
  // and not as the dashboard's cookie put back.
  expect((await request.get('/v1/phone-numbers', bearer)).status()).toBe(401);
  await context.addCookies([{ ...cookie!, expires: -1 }]);
  await page.goto('/');
  await expect(page).toHaveURL(/\/sign-in/);
  expect(failures).toEqual([]);
});
