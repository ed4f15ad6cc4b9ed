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
import type { Browser, Page } from 'playwright-core';
import { createApp } from '../../src/api';
import { releaseStatusQuery } from '../../src/domain/messages';
import { createLogger } from '../../src/logging/logger';
import { uiDepsFromConfig } from '../../src/ui';
import { demoRequest, fastPolicy, startHarness, startRelease, waitFor, type Harness } from '../support/harness';
import { launchChromium } from '../support/chromium';

const ROOT = path.join(__dirname, '../..');
const SHOTS = path.join(ROOT, 'test-results', 'e2e');
const USERS = path.join(ROOT, 'config', 'users.example.yaml');
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
  browser = await launchChromium();
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
  // The meaning is a choice among the role's defined meanings, not free text.
  await page.getByLabel(/Meaning of this signature/).selectOption(meaning);
  await page.getByLabel('Reason').fill(reason);
  await page.getByLabel(/Your password/).fill(PASSWORD[user]!);
  await page.getByRole('button', { name: 'Sign', exact: true }).click();
  await page.getByTestId('signed').waitFor();
}

/** The dossier sections in reviewer order (data-section of each <section> in the stored dossier page). */
const DOSSIER_SECTIONS = [
  'summary',
  'intended-use',
  'data',
  'evaluation',
  'shadow',
  'canary-plan',
  'rollback',
  'risks',
  'model-card',
  'signatures',
  'evidence',
];

/** Every dossier section is on the page, visible, in reviewer order, and above the sign form. */
async function assertDossierBeforeForm(page: Page): Promise<void> {
  // Strings, not functions: tsx would inject helpers into a serialised function.
  assert.deepEqual(
    await page.evaluate(
      `[...document.querySelectorAll('[data-testid="dossier-document"] section[data-section]')].map((e) => e.dataset.section)`,
    ),
    DOSSIER_SECTIONS,
  );
  const form = await page.locator('form[action$="/sign"]').boundingBox();
  assert.ok(form, 'the sign form is shown');
  for (const name of DOSSIER_SECTIONS) {
    const section = page.locator(`[data-testid="dossier-document"] section[data-section="${name}"]`);
    assert.ok(await section.isVisible(), `${name} is visible`);
    const box = (await section.boundingBox())!;
    assert.ok(box.y + box.height <= form.y, `${name} ends above the sign form`);
  }
}

/** No table on the page is cut off: each table's scroll container is as wide as its content. */
async function assertNoClippedTable(page: Page): Promise<void> {
  const clipped = await page.evaluate(
    `[...document.querySelectorAll('table')].map((t) => ({ head: (t.querySelector('th')?.textContent ?? '').trim(), scroll: t.parentElement.scrollWidth, client: t.parentElement.clientWidth })).filter((x) => x.scroll > x.client)`,
  );
  assert.deepEqual(clipped, [], 'tables wider than their container');
}

/** The PDF behind the page's link: a PDF, several pages, and the dossier digest in its title metadata. */
async function assertPdfCarries(page: Page, digest: string): Promise<void> {
  const href = await page.getByTestId('pdf-link').getAttribute('href');
  const res = await page.context().request.get(`${base}${href}`);
  assert.equal(res.status(), 200, await res.text());
  assert.equal(res.headers()['content-type'], 'application/pdf');
  assert.equal(res.headers()['x-dossier-sha256'], digest);
  const pdf = await res.body();
  assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
  fs.writeFileSync(path.join(SHOTS, 'dossier.pdf'), pdf);
  const text = pdf.toString('latin1');
  // Chromium writes the title as a literal or as UTF-16BE hex (<FEFF…>); decode both.
  const titles = [...text.matchAll(/\/Title\s*(\((?:[^()\\]|\\.)*\)|<[0-9A-Fa-f\s]+>)/g)].map((m) => {
    const v = m[1]!;
    if (v.startsWith('(')) return v.slice(1, -1);
    const hex = v.slice(1, -1).replace(/\s/g, '');
    const bytes = Buffer.from(hex, 'hex');
    return bytes[0] === 0xfe && bytes[1] === 0xff
      ? bytes.subarray(2).swap16().toString('utf16le')
      : bytes.toString('latin1');
  });
  assert.ok(
    titles.some((t) => t.includes(`dossier sha256 ${digest}`)),
    `PDF title carries the digest: ${JSON.stringify(titles)}`,
  );
  assert.ok((text.match(/\/Type\s*\/Page\b/g) ?? []).length >= 2, 'the whole document, several pages');
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
  // The rejection runs first: the released one promotes its candidate, and a later demo release of the same
  // candidate would be refused as identical to production.
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
    await sign(page, 'sam.clin', 'clinical', 'reject', 'reviewed', 'alert burden too high for night shifts');
    await shot(page, '07-rejected');
    const result = await handle.result();
    assert.equal(result.outcome, 'REJECTED');
    assert.match(result.reason, /rejected by Dr Sam Okafor \(clinical\): alert burden too high for night shifts/);
    await page.goto(`${base}/ui/releases/${handle.workflowId}`);
    assert.match((await page.getByTestId('outcome').textContent()) ?? '', /^REJECTED: .*alert burden too high/);
    await shot(page, '08-release-rejected');
    await page.context().close();
  });

  it('QA then clinical sign through the UI; the release advances and the auditor sees verified signatures', async () => {
    const handle = await startRelease(h, await demoRequest(h, await fastPolicy()));
    await awaitingApproval(handle);
    const page = await newPage();

    await page.goto(`${base}/ui/inbox`);
    // A first visit is not an error: a neutral notice, no red alert.
    assert.equal(await page.locator('#login-notice').textContent(), 'Please sign in.');
    assert.equal(await page.locator('#login-error').count(), 0);
    await shot(page, '01-login');
    await login(page, 'dana.qa');
    await openFromInbox(page, handle.workflowId);
    // What is signed is on the page: the dossier the digest names, every section, before the form.
    assert.equal(await page.getByTestId('stage').textContent(), 'AWAITING_APPROVAL');
    const digest = (await page.getByTestId('dossier').textContent())!;
    assert.equal(await page.getByTestId('dossier-index').textContent(), digest);
    await assertDossierBeforeForm(page);
    assert.ok((await page.locator('[data-section="evaluation"] svg').count()) >= 3, 'offline plots');
    assert.ok((await page.locator('[data-section="shadow"] svg').count()) >= 1, 'shadow plots');
    assert.match((await page.locator('[data-section="shadow"] p').first().textContent()) ?? '', /Shadow gate: pass/);
    assert.match((await page.locator('#sources').textContent()) ?? '', /simulated traffic/);
    assert.equal(await page.getByTestId('sign-by').count(), 1, 'a deadline while sign-off is open');
    assert.deepEqual(
      await page.locator('#meaning option').allTextContents(),
      ['reviewed', 'approved', 'responsible for'],
      'the defined meanings of the role',
    );
    await assertNoClippedTable(page);
    await shot(page, '02-release-awaiting-approval');
    await assertPdfCarries(page, digest);

    // A meaning outside the list is refused, even if the form is altered in the browser.
    await page.evaluate(
      `(() => { const o = document.createElement('option'); o.value = o.textContent = 'approved for canary release'; document.getElementById('meaning').appendChild(o); })()`,
    );
    await page.getByLabel('Reason').fill('evidence reviewed');
    await page.getByLabel(/Meaning of this signature/).selectOption('approved for canary release');
    await page.getByLabel(/Your password/).fill(PASSWORD['dana.qa']!);
    await page.getByRole('button', { name: 'Sign', exact: true }).click();
    assert.match(
      (await page.locator('#sign-error').textContent()) ?? '',
      /not one of the defined meanings for qa: "reviewed", "approved", "responsible for"/,
    );
    const tablet = await newPage(768, 1024);
    await login(tablet, 'dana.qa');
    await tablet.goto(page.url());
    await shot(tablet, '02b-release-tablet-width');
    await tablet.context().close();

    await sign(page, 'dana.qa', 'qa', 'approve', 'reviewed', 'acceptance criteria met; evidence reviewed');
    assert.match((await page.getByTestId('signed').textContent()) ?? '', /Pending roles: clinical/);
    // The record: printed name, meaning, the time in the signer's zone (Europe/London) and in UTC, the reason.
    assert.match(
      (await page.getByTestId('signature').textContent()) ?? '',
      /Dana Whitfield[\s\S]*Meaning: reviewed[\s\S]*Signed at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+ \(Europe\/London\) · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC[\s\S]*Reason: acceptance criteria met; evidence reviewed/,
    );
    await shot(page, '03-qa-signed');
    await logout(page);

    await login(page, 'sam.clin');
    await openFromInbox(page, handle.workflowId);
    // The clinical reviewer reads the same dossier, sees QA's signature with New York and UTC times after it.
    await assertDossierBeforeForm(page);
    assert.equal(await page.getByTestId('dossier-index').textContent(), digest);
    await sign(page, 'sam.clin', 'clinical', 'approve', 'approved', 'clinically acceptable alert burden');
    assert.match(
      (await page.getByTestId('signature').textContent()) ?? '',
      /Dr Sam Okafor[\s\S]*Meaning: approved[\s\S]*\(America\/New_York\) · [\s\S]*UTC/,
    );
    await shot(page, '04-clinical-signed');

    // The workflow moves on: canary, monitoring, released.
    await waitFor('CANARY or later', async () =>
      ['CANARY', 'MONITORING', 'RELEASED'].includes((await handle.query(releaseStatusQuery)).stage),
    );
    const result = await handle.result();
    assert.equal(result.outcome, 'RELEASED', result.reason);
    await page.goto(`${base}/ui/releases/${handle.workflowId}`);
    assert.equal(await page.getByTestId('sign-by').count(), 0, 'no deadline on a finished release');
    assert.match((await page.locator('#dossier-h').textContent()) ?? '', /Final dossier/);
    assert.equal(await page.locator('[data-section="signatures"] .signature').count(), 2);
    await assertNoClippedTable(page);
    await shot(page, '04b-release-released');
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
});
