import { test, expect, Page, APIRequestContext } from '@playwright/test';
import { available, hydrated, rest, runFile, signIn, watchForFailures } from './helpers';

/** Buys a live number over REST for the demo organization; returns its id and e164. */
async function ownedNumber(request: APIRequestContext, country = 'US', type = 'local') {
  const key = runFile('demo-live-key');
  const inv = (await available(request, key, country, type))[0];
  const res = await rest(request, key, 'POST', '/v1/phone-numbers', { inventory_id: inv.id });
  expect(res.status()).toBe(201);
  return (await res.json()) as { id: string; e164: string };
}

async function openNumber(page: Page, id: string) {
  await page.goto(`/numbers/${id}`);
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Settings' })).toBeVisible();
}

test('change every setting: saved with a confirmation, kept after reload and over REST', async ({ page, request }) => {
  const failures = watchForFailures(page);
  const n = await ownedNumber(request);
  await signIn(page);
  await openNumber(page, n.id);

  await page.getByLabel('Endpoint').selectOption({ label: 'Support call center' });
  await page.getByLabel('Allow inbound calls').uncheck();
  await page.getByLabel('Allow outbound calls').check();
  await page.getByLabel('Status').selectOption('inactive');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByText('Settings saved')).toBeVisible();

  await page.reload();
  await hydrated(page);
  await expect(page.getByLabel('Endpoint').locator('option:checked')).toHaveText('Support call center');
  await expect(page.getByLabel('Allow inbound calls')).not.toBeChecked();
  await expect(page.getByLabel('Allow outbound calls')).toBeChecked();
  await expect(page.getByLabel('Status')).toHaveValue('inactive');

  const got = await (await rest(request, runFile('demo-live-key'), 'GET', `/v1/phone-numbers/${n.id}`)).json();
  expect(got.allow_inbound).toBe(false);
  expect(got.allow_outbound).toBe(true);
  expect(got.status).toBe('inactive');
  expect(got.endpoint_id).not.toBeNull();

  // Detach the endpoint again.
  await page.getByLabel('Endpoint').selectOption({ label: 'Not attached' });
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByText('Settings saved').first()).toBeVisible();
  await expect.poll(async () => (await (await rest(request, runFile('demo-live-key'), 'GET', `/v1/phone-numbers/${n.id}`)).json()).endpoint_id).toBeNull();
  expect(failures).toEqual([]);
});

test('the SIP password is hidden until revealed, and SIP details can be copied', async ({ page, request, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const n = await ownedNumber(request);
  await signIn(page);
  await openNumber(page, n.id);
  const password = page.getByTestId('sip-password');
  await expect(password).toHaveText(/^•+$/);
  await page.getByRole('button', { name: 'Reveal' }).click();
  const real = (await (await rest(request, runFile('demo-live-key'), 'GET', `/v1/phone-numbers/${n.id}`)).json()).sip_credentials.password;
  await expect(password).toHaveText(real);
  await page.getByRole('button', { name: 'Copy SIP URI' }).click();
  await expect(page.getByText('Copied to the clipboard')).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`sip:${n.e164}@sip.kros.local`);
});

test('release keeps the record read-only; delete removes it; both ask first', async ({ page, request }) => {
  const key = runFile('demo-live-key');
  const released = await ownedNumber(request);
  const deleted = await ownedNumber(request);
  await signIn(page);

  await openNumber(page, released.id);
  await page.getByRole('button', { name: 'Release number' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toContainText('Release');
  await expect(dialog).toContainText('goes back to the inventory');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  expect((await (await rest(request, key, 'GET', `/v1/phone-numbers/${released.id}`)).json()).released_at).toBeNull();

  await page.getByRole('button', { name: 'Release number' }).click();
  await dialog.getByRole('button', { name: 'Release number' }).click();
  await expect(page.getByText('Number released')).toBeVisible();
  await expect(page.getByText(/Released on/)).toBeVisible();
  // A released number's SIP password is changed and withheld.
  await expect(page.getByTestId('sip-password')).toContainText('Withheld');
  await expect(page.getByRole('button', { name: 'Save settings' })).toBeDisabled();
  const after = await (await rest(request, key, 'GET', `/v1/phone-numbers/${released.id}`)).json();
  expect(after.status).toBe('inactive');
  expect(after.released_at).not.toBeNull();

  await openNumber(page, deleted.id);
  await page.getByRole('button', { name: 'Delete number' }).click();
  await expect(dialog).toContainText('removed');
  await dialog.getByRole('button', { name: 'Delete number' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByText('Number deleted')).toBeVisible();
  expect((await rest(request, key, 'GET', `/v1/phone-numbers/${deleted.id}`)).status()).toBe(404);
});

test('a name, tags and the deletion lock: set in settings, shown and filtered in the list, the lock explained', async ({ page, request }) => {
  const failures = watchForFailures(page);
  const key = runFile('demo-live-key');
  const n = await ownedNumber(request);
  await signIn(page);
  await openNumber(page, n.id);

  const name = `Front desk ${Date.now()}`;
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Tags', { exact: true }).fill('support, e2e-lock');
  await page.getByLabel('Deletion lock').check();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByText('Settings saved')).toBeVisible();

  // Locked: both buttons are disabled, and the page says why.
  const release = page.getByRole('button', { name: 'Release number' });
  const remove = page.getByRole('button', { name: 'Delete number' });
  await expect(release).toBeDisabled();
  await expect(remove).toBeDisabled();
  await expect(release).toHaveAccessibleDescription(/deletion-locked/);
  const got = await (await rest(request, key, 'GET', `/v1/phone-numbers/${n.id}`)).json();
  expect([got.friendly_name, got.tags, got.deletion_locked]).toEqual([name, ['support', 'e2e-lock'], true]);
  expect((await rest(request, key, 'DELETE', `/v1/phone-numbers/${n.id}`)).status()).toBe(409);

  // The list shows the name and the tags; a tag is a link to the numbers carrying it.
  await page.goto('/');
  await hydrated(page);
  await page.getByLabel('Search').fill(name.toUpperCase());
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/q=/);
  const rows = page.locator('tbody tr');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText(name);
  await rows.first().getByRole('link', { name: 'e2e-lock' }).click();
  await expect(page).toHaveURL(/tag=e2e-lock/);
  await expect(page.locator('tbody tr').filter({ hasText: name })).toHaveCount(1);

  // Unlocked, the number can be released again.
  await openNumber(page, n.id);
  await page.getByLabel('Deletion lock').uncheck();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByText('Settings saved')).toBeVisible();
  await expect(release).toBeEnabled();
  await release.click();
  await page.getByRole('dialog').getByRole('button', { name: 'Release number' }).click();
  await expect(page.getByText('Number released')).toBeVisible();
  expect(failures).toEqual([]);
});
