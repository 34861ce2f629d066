import { defineConfig, devices } from '@playwright/test';

// The server (E2E_BIN), started by start-server.sh on a fresh database, in Debian's Chromium
// (no browser download: this machine reaches only the package registries).
const port = Number(process.env.E2E_PORT ?? 3100);
export const baseURL = `http://127.0.0.1:${port}`;
// A second server that signs in through a Supabase project: the loopback stand-in of
// supabase-stand-in/ (no Supabase project is reachable from here). Its tokens last 20 s, so that
// the refresh before expiry happens within a test.
const supabasePort = port + 1;
const projectPort = port + 90;
export const supabaseBaseURL = `http://127.0.0.1:${supabasePort}`;
export const projectURL = `http://127.0.0.1:${projectPort}`;

export default defineConfig({
  testDir: './tests',
  timeout: 90_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
    },
  },
  projects: [{ name: 'chromium', use: { ...devices['Desktop Chrome'] } }],
  webServer: [
    {
      command: `./start-server.sh ${port}`,
      url: `${baseURL}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'pipe',
      stderr: 'pipe',
    },
    {
      command: `node supabase-stand-in/server.mjs ${projectPort}`,
      url: `${projectURL}/auth/v1/health`,
      env: { STAND_IN_TOKEN_SECONDS: '20' },
      reuseExistingServer: false,
      timeout: 10_000,
    },
    {
      command: `./start-supabase-server.sh ${supabasePort} ${projectPort}`,
      url: `${supabaseBaseURL}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'pipe',
      stderr: 'pipe',
    },
  ],
});
