/**
 * Browser end-to-end under OIDC: the real stack (Temporal dev server, SeaweedFS, in-process worker), the API with
 * the sign-off UI configured for an OpenID provider (VIGIL_OIDC_*), and a real provider (oidc-provider, with the
 * test login form) — driven by Debian's Chromium through playwright-core. A QA approver signs in at the provider,
 * is sent back there to sign in again at signing, and the signature record carries the provider's auth_time and
 * subject; a clinical approver whose provider reports an old authentication is refused with the reason.
 * Screenshots land in test-results/e2e/.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Browser, Page } from 'playwright-core';
import { createApp } from '../../src/api';
import { releaseStatusQuery } from '../../src/domain/messages';
import { createLogger } from '../../src/logging/logger';
import { uiDepsFromConfig } from '../../src/ui';
import { demoRequest, fastPolicy, startHarness, startRelease, waitFor, type Harness } from '../support/harness';
import { launchChromium } from '../support/chromium';
import { dana, DANA_OTP, JWT, misbehaving, oidcSettings, sam, SAM_OTP, uiClient } from '../support/oidc-harness';
import { ACR_MFA, startTestOp, type TestOp, type TestUser } from '../support/oidc-provider';

const ROOT = path.join(__dirname, '../..');
const SHOTS = path.join(ROOT, 'test-results', 'e2e');
const USERS: TestUser[] = [dana(), sam()];

let h: Harness;
let op: TestOp;
let server: ServerType;
let base: string;
let browser: Browser;
let auditLog: string;

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  h = await startHarness();
  const log = createLogger('e2e-oidc', 'warn');
  auditLog = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-e2e-oidc-')), 'auth.jsonl');
  // The redirect URI names Vigil's port, so Vigil listens first and gets its app once the provider runs.
  let app: Hono | null = null;
  const port = await new Promise<number>((resolve) => {
    server = serve(
      {
        fetch: (req) => (app ? app.fetch(req) : new Response('starting', { status: 503 })),
        hostname: '127.0.0.1',
        port: 0,
      },
      (info) => resolve(info.port),
    );
  });
  base = `http://127.0.0.1:${port}`;
  const redirectUri = `${base}/ui/oidc/callback`;
  op = await startTestOp({ users: USERS, clients: [uiClient(redirectUri)] });
  const oidc = oidcSettings(op, { redirectUri, cliClientId: undefined, clockToleranceSeconds: 30 });
  const ui = uiDepsFromConfig(
    { signingKeyDir: h.config.signingKeyDir, auth: { usersFile: undefined, auditLog, secureCookies: false, oidc } },
    { client: h.client, evidence: h.evidence, log },
  );
  app = createApp({ client: h.client, config: h.config, log, ui });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await op?.stop();
  await h?.stop();
});

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** At the provider's login form: user name, password and (for MFA) the one-time code. */
async function providerLogin(page: Page, user: TestUser, otp?: string): Promise<void> {
  await page.waitForURL((u) => u.toString().startsWith(`${op.issuer}/interaction/`));
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  if (otp) await page.getByLabel('One-time code').fill(otp);
  await page.getByRole('button', { name: 'Continue' }).click();
}

async function signIn(page: Page, user: TestUser): Promise<void> {
  await page.goto(`${base}/ui/inbox`);
  await page.locator('#sso-login').click();
  await providerLogin(page, user);
  await page.waitForURL(/\/ui\/inbox$/);
  assert.equal(await page.getByTestId('whoami').textContent(), user.name);
}

/** Fills the sign form and submits it; the browser then goes to the provider to sign in again. */
async function submitSignForm(page: Page, releaseId: string, role: string, reason: string): Promise<void> {
  await page.goto(`${base}/ui/releases/${releaseId}`);
  await page.getByLabel('Role you sign for').selectOption(role);
  await page.getByRole('radio', { name: 'Approve', exact: true }).check();
  await page.getByLabel(/Meaning of this signature/).selectOption('approved');
  await page.getByLabel('Reason').fill(reason);
  assert.equal(await page.getByLabel(/Your password/).count(), 0, 'no password field under OIDC');
  await page.getByRole('button', { name: 'Sign', exact: true }).click();
}

describe('web sign-off through an OpenID provider', () => {
  it('a QA approver signs in, re-authenticates at signing, and the record carries auth_time and subject; a stale authentication is refused', async () => {
    const handle = await startRelease(h, await demoRequest(h, await fastPolicy()));
    await waitFor(
      'AWAITING_APPROVAL',
      async () => {
        const s = await handle.query(releaseStatusQuery);
        assert.equal(s.outcome, null, `release ended early: ${s.reason}`);
        return s.stage === 'AWAITING_APPROVAL' && s.dossier ? s : null;
      },
      120_000,
    );
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();

    await signIn(page, USERS[0]!);
    await shot(page, 'oidc-01-signed-in');
    const loginsBefore = op.logins.length;
    await submitSignForm(page, handle.workflowId, 'qa', 'evidence reviewed; fit for canary');
    // Sent back to the provider with prompt=login: the login form again although its session is live.
    await page.waitForURL((u) => u.toString().startsWith(`${op.issuer}/interaction/`));
    assert.equal(await page.locator('#prompt').textContent(), 'prompt: login');
    await shot(page, 'oidc-02-reauth-at-provider');
    await providerLogin(page, USERS[0]!, DANA_OTP);
    await page.getByTestId('signed').waitFor();
    await shot(page, 'oidc-03-signed');
    const reauth = op.logins[loginsBefore]!;
    assert.equal(reauth.username, 'dana.qa');

    const status = await handle.query(releaseStatusQuery);
    const sig = status.signatures.find((s) => s.signer === 'dana.qa')!;
    assert.equal(sig.printedName, 'Dana Whitfield');
    assert.equal(sig.authentication!.subject, 'sub-dana-7f3a');
    assert.equal(sig.authentication!.issuer, op.issuer);
    // The provider's auth_time of the re-authentication at signing, exactly.
    assert.equal(sig.authentication!.authTime, new Date(reauth.authTime * 1000).toISOString());
    assert.deepEqual(sig.authentication!.amr, ['pwd', 'otp', 'mfa']);
    assert.equal(sig.authentication!.acr, ACR_MFA);
    // The stored evidence record says the same.
    const record = JSON.parse(
      Buffer.from(await h.evidence.getBytes(sig.evidence.key, sig.evidence.sha256)).toString('utf8'),
    );
    assert.equal(record.authentication.subject, 'sub-dana-7f3a');
    assert.equal(record.authentication.authTime, sig.authentication!.authTime);
    assert.doesNotMatch(JSON.stringify(record), JWT);
    await context.close();

    // Clinical, at their own browser: the provider reports an authentication ten minutes old at signing.
    const context2 = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page2 = await context2.newPage();
    await signIn(page2, USERS[1]!);
    await submitSignForm(page2, handle.workflowId, 'clinical', 'clinically acceptable');
    await misbehaving(op, { authTimeShiftSeconds: 600 }, async () => {
      await providerLogin(page2, USERS[1]!, SAM_OTP);
      await page2.locator('[role="alert"]').waitFor();
    });
    assert.match(
      (await page2.locator('[role="alert"]').textContent()) ?? '',
      /older than signing allows \(auth_time past max_age\)/,
    );
    await shot(page2, 'oidc-04-stale-refused');
    const after = await handle.query(releaseStatusQuery);
    assert.equal(after.signatures.filter((s) => s.signer === 'sam.clin').length, 0);
    assert.deepEqual(after.pendingRoles, ['clinical']);

    const lines = fs.readFileSync(auditLog, 'utf8');
    assert.match(lines, /"type":"reauth.failure".*"reason":"stale-auth-time"/);
    assert.doesNotMatch(lines, JWT);
    await context2.close();
  });
});
