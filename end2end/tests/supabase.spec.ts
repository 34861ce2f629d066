import { test, expect, APIRequestContext, BrowserContext } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectURL, supabaseBaseURL } from '../playwright.config';
import { hydrated, signIn, watchForFailures } from './helpers';

// The dashboard of a server configured for a Supabase project (SUPABASE_URL and its publishable
// key): the loopback stand-in of supabase-stand-in/, whose access tokens last 20 s.
test.use({ baseURL: supabaseBaseURL });

const project = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'supabase-stand-in', 'project.json'), 'utf8'));
type User = { email: string; password: string; member: boolean };
const SAM: User = project.users.find((u: User) => u.member);
const STRANGER: User = project.users.find((u: User) => !u.member);

async function cookie(context: BrowserContext, name: string) {
  const found = (await context.cookies()).find((c) => c.name === name);
  expect(found, `cookie ${name}`).toBeTruthy();
  return found!;
}

/** What the stand-in project was asked, in order. */
async function projectCalls(request: APIRequestContext): Promise<Array<{ path: string; grant_type?: string; scope?: string }>> {
  return (await request.get(`${projectURL}/__stand-in/calls`)).json();
}

async function restStatus(request: APIRequestContext, token: string) {
  const res = await request.get(`${supabaseBaseURL}/v1/phone-numbers`, { headers: { Authorization: `Bearer ${token}` } });
  return res.status();
}

test('signs in through the Supabase project, refreshes before expiry, and signs out there too', async ({ page, context, request }) => {
  const failures = watchForFailures(page);
  await signIn(page, SAM);
  await expect(page.getByRole('heading', { name: 'Numbers', exact: true })).toBeVisible();
  const access = await cookie(context, 'kros_session');
  const refresh = await cookie(context, 'kros_refresh');
  expect(access.httpOnly && refresh.httpOnly).toBe(true);
  expect(access.sameSite).toBe('Lax');
  expect((await projectCalls(request)).filter((c) => c.grant_type === 'password')).toHaveLength(1);
  // The project's access token (ES256, verified against its JWKS) works on the REST door too.
  expect(await restStatus(request, access.value)).toBe(200);

  // Less than half of the token's 20 s left: the next page refreshes it before serving.
  await page.waitForTimeout(11_000);
  await page.goto('/api-keys');
  await expect(page.getByRole('heading', { name: 'API keys' })).toBeVisible();
  const refreshed = await cookie(context, 'kros_session');
  const nextRefresh = await cookie(context, 'kros_refresh');
  expect(refreshed.value).not.toBe(access.value);
  expect(nextRefresh.value).not.toBe(refresh.value);
  expect((await projectCalls(request)).some((c) => c.grant_type === 'refresh_token')).toBe(true);

  await hydrated(page);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/sign-in/);
  expect((await projectCalls(request)).filter((c) => c.path === '/auth/v1/logout')).toEqual([
    { path: '/auth/v1/logout', scope: 'local' },
  ]);
  // Signed out: the session's access token is refused here at once (not only when it expires),
  // and its refresh token no longer works at the project.
  expect(await restStatus(request, refreshed.value)).toBe(401);
  const reuse = await request.post(`${projectURL}/auth/v1/token?grant_type=refresh_token`, {
    headers: { apikey: project.publishable_key },
    data: { refresh_token: nextRefresh.value },
  });
  expect(reuse.status()).toBe(400);
  await page.goto('/');
  await expect(page).toHaveURL(/\/sign-in/);
  expect(failures).toEqual([]);
});

test('the project refuses a wrong password; a project user who is no member here is told so', async ({ page }) => {
  const failures = watchForFailures(page);
  await page.goto('/sign-in');
  await hydrated(page);
  await page.getByLabel('Email').fill(SAM.email);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('The email or password is incorrect.');

  await page.getByLabel('Email').fill(STRANGER.email);
  await page.getByLabel('Password').fill(STRANGER.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('no access to Kros Numbers');
  await page.goto('/');
  await expect(page).toHaveURL(/\/sign-in/);
  expect(failures).toEqual([]);
});
