import { test, expect, APIRequestContext } from '@playwright/test';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { available, hydrated, rest, runFile, signIn, watchForFailures } from './helpers';

/** A webhook receiver on loopback that keeps what it gets and answers 200. */
async function receiver() {
  const received: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return { url, received, close: () => server.close() };
}

async function buyOverRest(request: APIRequestContext) {
  const key = runFile('demo-live-key');
  const inv = (await available(request, key, 'US'))[0];
  const res = await rest(request, key, 'POST', '/v1/phone-numbers', { inventory_id: inv.id });
  expect(res.status()).toBe(201);
  return (await res.json()) as { id: string };
}

test('add a webhook endpoint, receive a purchase, see it delivered, rotate, disable and delete it', async ({ page, request }) => {
  const failures = watchForFailures(page);
  const hook = await receiver();
  await signIn(page);
  await page.getByRole('link', { name: 'Webhooks' }).click();
  await hydrated(page);
  await page.getByLabel('URL').fill(hook.url);
  await page.getByLabel('Description').fill('Call routing');
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  await expect(page.getByText('you will not see it again')).toBeVisible();
  expect((await page.getByTestId('webhook-secret').innerText()).trim()).toMatch(/^whsec_/);
  const card = page.getByRole('region', { name: `Webhook endpoint ${hook.url}` });
  await expect(card).toContainText('Enabled');
  await expect(card).toContainText('Nothing sent yet.');

  await buyOverRest(request);
  await expect.poll(() => hook.received.length, { timeout: 15_000 }).toBeGreaterThan(0);
  const event = JSON.parse(hook.received[0].body);
  expect(event.type).toBe('phone_number.purchased');
  expect(hook.received[0].headers['webhook-id']).toBe(event.id);
  expect(hook.received[0].headers['webhook-signature']).toMatch(/^v1,/);
  await page.reload();
  await hydrated(page);
  await expect(card.getByRole('table', { name: 'The latest 5 deliveries' })).toContainText('Delivered (200)');
  await expect(card).toContainText('phone_number.purchased');

  // Send the latest event again: the same event, the same webhook-id.
  await card.getByRole('button', { name: 'Send the latest event' }).click();
  await expect(page.getByText('The latest event (phone_number.purchased) is on its way')).toBeVisible();
  await expect.poll(() => hook.received.length, { timeout: 15_000 }).toBeGreaterThan(1);
  expect(hook.received[1].headers['webhook-id']).toBe(event.id);

  await card.getByRole('button', { name: 'Rotate secret' }).click();
  await expect(page.getByText('The new signing secret: copy it now')).toBeVisible();
  await card.getByRole('button', { name: 'Disable' }).click();
  await expect(card).toContainText('Disabled');
  await expect(card.getByRole('button', { name: 'Enable' })).toBeVisible();

  await card.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete endpoint' }).click();
  await expect(page.getByText('Webhook endpoint deleted')).toBeVisible();
  await expect(card).toHaveCount(0);
  hook.close();
  expect(failures).toEqual([]);
});

test("a number's settings page shows its history, newest first, with who did it", async ({ page, request }) => {
  const n = await buyOverRest(request);
  await signIn(page);
  await page.goto(`/numbers/${n.id}`);
  await hydrated(page);
  const history = page.getByRole('region', { name: 'History' });
  await expect(history).toContainText('Bought');
  await expect(history).toContainText('API key “e2e live”');
  await page.getByLabel('Allow outbound calls').check();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByText('Settings saved')).toBeVisible();
  await expect(history.locator('li').first()).toContainText('Changed allow outbound');
  await expect(history.locator('li').first()).toContainText('demo@kros.local');
});
