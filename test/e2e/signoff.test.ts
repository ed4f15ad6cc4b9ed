/**
 * Browser end-to-end: the real stack (Temporal dev server, SeaweedFS, in-process worker) plus the API app with
 * the sign-off UI on a free port, driven by Debian's Chromium through playwright-core. Screenshots land in
 * test-results/e2e/.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serve, type ServerType } from '@hono/node-server';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createApp } from '../../src/api';
import { releaseStatusQuery } from '../../src/domain/messages';
import { createLogger } from '../../src/logging/logger';
import { uiDepsFromConfig } from '../../src/ui';
import { demoRequest, fastPolicy, startHarness, startRelease, waitFor, type Harness } from '../support/harness';

const ROOT = path.join(__dirname, '../..');
const SHOTS = path.join(ROOT, 'test-results', 'e2e');
const USERS = path.join(ROOT, 'config', 'users.example.yaml');
const CHROMIUM = '/usr/bin/chromium';
const PASSWORD: Record<string, string> = {
  'dana.qa': 'dana-demo-password',
  'sam.clin': 'sam-demo-password',
  'ida.audit': 'ida-demo-password',
  'alex.mle': 'alex-demo-password',
};

let h: Harness;
let server: ServerType;
let base: string;
let browser: Browser;
let auditLog: string;

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  h = await startHarness();
  const log = createLogger('e2e', 'warn');
  auditLog = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-e2e-')), 'auth.jsonl');
  const ui = uiDepsFromConfig(
    { signingKeyDir: h.config.signingKeyDir, auth: { usersFile: USERS, auditLog, secureCookies: false } },
    { client: h.client, evidence: h.evidence, log },
  );
  const app = createApp({ client: h.client, config: h.config, log, ui });
  const port = await new Promise<number>((resolve) => {
    server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => resolve(info.port));
  });
  base = `http://127.0.0.1:${port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});

after(async () => {
  await browser?.close();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await h?.stop();
});

async function newPage(width = 1280, height = 900): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height } });
  return context.newPage();
}

async function login(page: Page, user: string): Promise<void> {
  await page.goto(`${base}/ui/inbox`);
  await page.getByLabel('User id').fill(user);
  await page.getByLabel('Password').fill(PASSWORD[user]!);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/ui\/inbox$/);
  assert.equal(
    await page.getByTestId('whoami').textContent(),
    { 'dana.qa': 'Dana Whitfield', 'sam.clin': 'Dr Sam Okafor', 'ida.audit': 'Ida Brennan', 'alex.mle': 'Alex Moreau' }[
      user
    ],
  );
}

async function logout(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/ui\/login$/);
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** Reload the inbox until the release shows up (visibility of the stage search attribute lags a little). */
async function openFromInbox(page: Page, releaseId: string): Promise<void> {
  const link = page.getByRole('link', { name: releaseId });
  await waitFor(`${releaseId} in the inbox`, async () => {
    await page.goto(`${base}/ui/inbox`);
    return (await link.count()) > 0;
  });
  await link.click();
  await page.waitForURL(new RegExp(`/ui/releases/${releaseId}$`));
}

async function sign(
  page: Page,
  user: string,
  role: string,
  decision: 'approve' | 'reject',
  meaning: string,
  reason: string,
): Promise<void> {
  await page.getByLabel('Role you sign for').selectOption(role);
  await page
    .getByRole('radio', { name: decision === 'approve' ? 'Approve' : 'Reject (ends the release)', exact: true })
    .check();
  await page.getByLabel(/Meaning of this signature/).fill(meaning);
  await page.getByLabel('Reason').fill(reason);
  await page.getByLabel(/Your password/).fill(PASSWORD[user]!);
  await page.getByRole('button', { name: 'Sign', exact: true }).click();
  await page.getByTestId('signed').waitFor();
}

async function awaitingApproval(handle: Awaited<ReturnType<typeof startRelease>>) {
  return waitFor(
    'AWAITING_APPROVAL',
    async () => {
      const s = await handle.query(releaseStatusQuery);
      assert.equal(s.outcome, null, `release ended early: ${s.reason}`);
      return s.stage === 'AWAITING_APPROVAL' && s.dossier ? s : null;
    },
    120_000,
  );
}

describe('web sign-off in a browser', () => {
  it('QA then clinical sign through the UI; the release advances and the auditor sees verified signatures', async () => {
    const handle = await startRelease(h, await demoRequest(h, await fastPolicy()));
    await awaitingApproval(handle);
    const page = await newPage();

    await page.goto(`${base}/ui/inbox`);
    await shot(page, '01-login');
    await login(page, 'dana.qa');
    await openFromInbox(page, handle.workflowId);
    // Evidence on the page: status, decisions, the stored evaluation report with its plots, shadow findings.
    assert.equal(await page.getByTestId('stage').textContent(), 'AWAITING_APPROVAL');
    assert.ok((await page.locator('.report section').count()) === 1, 'the evaluation report fragment is embedded');
    assert.ok((await page.locator('.report svg').count()) >= 1, 'with its SVG plots');
    assert.match((await page.locator('#shadow-h + p').textContent()) ?? '', /pass/);
    await shot(page, '02-release-awaiting-approval');
    const tablet = await newPage(768, 1024);
    await login(tablet, 'dana.qa');
    await tablet.goto(page.url());
    await shot(tablet, '02b-release-tablet-width');
    await tablet.context().close();

    await sign(
      page,
      'dana.qa',
      'qa',
      'approve',
      'approved for canary release as QA reviewer',
      'acceptance criteria met; evidence reviewed',
    );
    assert.match((await page.getByTestId('signed').textContent()) ?? '', /Pending roles: clinical/);
    assert.match(
      (await page.getByTestId('signature').textContent()) ?? '',
      /Dana Whitfield[\s\S]*approved for canary release as QA reviewer[\s\S]*Signed at \d{4}-/,
    );
    await shot(page, '03-qa-signed');
    await logout(page);

    await login(page, 'sam.clin');
    await openFromInbox(page, handle.workflowId);
    await sign(
      page,
      'sam.clin',
      'clinical',
      'approve',
      'approved for canary release as clinical reviewer',
      'clinically acceptable alert burden',
    );
    await shot(page, '04-clinical-signed');

    // The workflow moves on: canary, monitoring, released.
    await waitFor('CANARY or later', async () =>
      ['CANARY', 'MONITORING', 'RELEASED'].includes((await handle.query(releaseStatusQuery)).stage),
    );
    const result = await handle.result();
    assert.equal(result.outcome, 'RELEASED', result.reason);
    await logout(page);

    await login(page, 'ida.audit');
    await page.goto(`${base}/ui/releases/${handle.workflowId}/timeline`);
    assert.equal(await page.getByTestId('stage').textContent(), 'RELEASED');
    const checks = await page.getByTestId('verification').allTextContents();
    assert.equal(checks.length, 2);
    for (const c of checks) assert.match(c, /✔ record digest verified; sealed by system key/);
    const sigs = await page.getByTestId('signature').allTextContents();
    assert.match(sigs.join('\n'), /Dana Whitfield[\s\S]*Dr Sam Okafor/);
    await shot(page, '05-auditor-timeline');
    await page.context().close();

    const events = fs
      .readFileSync(auditLog, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; user: string });
    assert.ok(events.some((e) => e.type === 'signature.accepted' && e.user === 'sam.clin'));
    assert.ok(events.some((e) => e.type === 'reauth.success' && e.user === 'dana.qa'));
  });

  it('the submitter cannot sign, and a clinical rejection through the UI ends the release as REJECTED', async () => {
    const handle = await startRelease(h, await demoRequest(h, await fastPolicy(), 2));
    await awaitingApproval(handle);
    const page = await newPage();

    await login(page, 'alex.mle');
    await page.goto(`${base}/ui/releases/${handle.workflowId}`);
    assert.match((await page.locator('#sign-h + p').textContent()) ?? '', /separation of duties/);
    assert.equal(await page.getByLabel(/Your password/).count(), 0, 'no sign form for the submitter');
    await shot(page, '06-submitter-blocked');
    await logout(page);

    await login(page, 'sam.clin');
    await openFromInbox(page, handle.workflowId);
    await sign(
      page,
      'sam.clin',
      'clinical',
      'reject',
      'rejected as clinical reviewer',
      'alert burden too high for night shifts',
    );
    await shot(page, '07-rejected');
    const result = await handle.result();
    assert.equal(result.outcome, 'REJECTED');
    assert.match(result.reason, /rejected by Dr Sam Okafor \(clinical\): alert burden too high for night shifts/);
    await page.goto(`${base}/ui/releases/${handle.workflowId}`);
    assert.match((await page.getByTestId('outcome').textContent()) ?? '', /^REJECTED: .*alert burden too high/);
    await shot(page, '08-release-rejected');
    await page.context().close();
  });
});
