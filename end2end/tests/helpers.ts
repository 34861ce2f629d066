import { expect, Page, APIRequestContext } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const DEMO = { email: 'demo@kros.local', password: 'kros-demo-2026' };
export const OTHER = { email: 'other@kros.local', password: 'other-password-1' };
/** A member of "Team Organization" (first) and "Other Organization". */
export const TEAM = { email: 'team@kros.local', password: 'team-password-1' };

/** A value start-server.sh left in end2end/.run/. */
export function runFile(name: string): string {
  return fs.readFileSync(path.join(__dirname, '..', '.run', name), 'utf8').trim();
}

/** Fails the test on any page error or failed request (4xx/5xx) while it runs. */
export function watchForFailures(page: Page, allow: (status: number, url: string) => boolean = () => false): string[] {
  const failures: string[] = [];
  page.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400 && !allow(r.status(), r.url())) failures.push(`${r.status()} ${r.url()}`);
  });
  return failures;
}

/** Waits until the page has hydrated (the WASM bundle has taken over). */
export async function hydrated(page: Page) {
  await page.locator('body[data-hydrated="true"]').waitFor({ state: 'attached', timeout: 15_000 });
}

export async function signIn(page: Page, who = DEMO, next = '/') {
  await page.goto(`/sign-in?next=${encodeURIComponent(next)}`);
  await hydrated(page);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  await hydrated(page);
}

export async function rest(request: APIRequestContext, key: string, method: string, url: string, data?: unknown) {
  return request.fetch(url, { method, headers: { Authorization: `Bearer ${key}` }, data });
}

/** Numbers for sale through the REST API, with a key of the mode wanted. */
export async function available(request: APIRequestContext, key: string, country: string, type?: string) {
  const res = await rest(request, key, 'GET', `/v1/phone-numbers?action=available&country=${country}${type ? `&type=${type}` : ''}&limit=100`);
  expect(res.status()).toBe(200);
  return (await res.json()).data as Array<{ id: string; e164: string; setup_cost_cents: number; monthly_cost_cents: number }>;
}
