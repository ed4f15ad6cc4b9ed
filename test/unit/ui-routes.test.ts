/** The sign-off UI over HTTP (app.request): sessions, CSRF, lockout, re-authentication, refusals, idempotency, evidence. */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, describe, it } from 'node:test';
import { createApp } from '../../src/api';
import { Ed25519Signer } from '../../src/attestation';
import {
  FileIdentityProvider,
  hashPassword,
  MemoryLoginThrottle,
  MemoryAuditLog,
  MemorySessionStore,
} from '../../src/auth';
import { createLogger } from '../../src/logging/logger';
import { PublicKeyVerifier } from '../../src/attestation';
import type { UiDeps } from '../../src/ui';
import { FakeRelease, FakeTemporal, MemoryEvidence } from './ui-fakes';

const log = createLogger('ui-test', 'silent');
const FAST = { N: 1024, r: 8, p: 1 };
const PASSWORDS: Record<string, string> = {
  'dana.qa': 'dana-password-1',
  'sam.clin': 'sam-password-1',
  'dev.alice': 'alice-password-1',
  'ida.audit': 'ida-password-1',
};
let identities: FileIdentityProvider;
const signer = new Ed25519Signer(crypto.generateKeyPairSync('ed25519').privateKey);

before(async () => {
  identities = new FileIdentityProvider({
    users: [
      {
        id: 'dana.qa',
        name: 'Dana Whitfield',
        roles: ['qa'],
        passwordHash: await hashPassword(PASSWORDS['dana.qa']!, FAST),
        disabled: false,
        timeZone: 'Europe/Berlin',
      },
      {
        id: 'sam.clin',
        name: 'Dr Sam Okafor',
        roles: ['clinical'],
        passwordHash: await hashPassword(PASSWORDS['sam.clin']!, FAST),
        disabled: false,
      },
      // The fixture release is submitted by dev.alice, who also holds qa: separation of duties must still stop her.
      {
        id: 'dev.alice',
        name: 'Alice Dev',
        roles: ['qa'],
        passwordHash: await hashPassword(PASSWORDS['dev.alice']!, FAST),
        disabled: false,
      },
      {
        id: 'ida.audit',
        name: 'Ida Brennan',
        roles: ['auditor'],
        passwordHash: await hashPassword(PASSWORDS['ida.audit']!, FAST),
        disabled: false,
      },
    ],
  });
});

async function setup(opts: { secureCookies?: boolean; throttle?: MemoryLoginThrottle } = {}) {
  const temporal = new FakeTemporal();
  const evidence = new MemoryEvidence();
  const audit = new MemoryAuditLog();
  const release = temporal.add(new FakeRelease('sepsis-alert-abc-1', evidence, signer));
  await release.toAwaitingApproval();
  let ip = '203.0.113.7';
  const ui: UiDeps = {
    client: temporal,
    evidence,
    identities,
    usersConfigured: true,
    sessions: new MemorySessionStore(),
    throttle: opts.throttle ?? new MemoryLoginThrottle(),
    audit,
    verifiers: [new PublicKeyVerifier(signer.publicKey())],
    systemKeyPem: signer.publicKey().export({ type: 'spki', format: 'pem' }).toString(),
    secureCookies: opts.secureCookies ?? false,
    log,
    clientAddress: () => ip,
    duplicateWaitMs: 2000,
  };
  const app = createApp({
    client: temporal,
    config: { api: { host: '127.0.0.1', port: 0, url: 'http://x', token: 'api-token-0123456789abcdef' } },
    log,
    ui,
  });
  const post = (path: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
    app.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', host: 'localhost', ...headers },
      body: new URLSearchParams(form).toString(),
    });
  const get = (path: string, headers: Record<string, string> = {}) =>
    app.request(path, { headers: { host: 'localhost', ...headers } });

  /** Log in; returns the cookie header and the CSRF token from a rendered page. */
  async function login(user: string, password = PASSWORDS[user]!) {
    const res = await post('/ui/login', { username: user, password, next: '/ui/inbox' });
    assert.equal(res.status, 303, `login of ${user} should succeed`);
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    const page = await (await get('/ui/inbox', { cookie })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
    return { cookie, csrf };
  }

  const digest = () => release.state.dossier!.sha256;
  const signForm = (csrf: string, over: Record<string, string> = {}) => ({
    _csrf: csrf,
    role: 'qa',
    decision: 'approve',
    meaning: 'approved',
    reason: 'evidence reviewed',
    password: PASSWORDS['dana.qa']!,
    dossierSha256: digest(),
    ...over,
  });
  const signPath = `/ui/releases/${release.releaseId}/sign`;
  return {
    app,
    temporal,
    evidence,
    audit,
    release,
    post,
    get,
    login,
    signForm,
    signPath,
    setIp: (x: string) => (ip = x),
  };
}

describe('sessions and login', () => {
  it('pages and signing without a session answer 401 with the login form', async () => {
    const t = await setup();
    for (const path of [
      '/ui/inbox',
      '/ui/releases',
      `/ui/releases/${t.release.releaseId}`,
      `/ui/releases/${t.release.releaseId}/timeline`,
    ]) {
      const res = await t.get(path);
      assert.equal(res.status, 401, path);
      assert.match(await res.text(), /<form[^>]+action="\/ui\/login"/);
    }
    const res = await t.post(t.signPath, t.signForm('whatever'));
    assert.equal(res.status, 401);
    assert.equal(t.release.updates.length, 0);
  });

  it('a login sets an HttpOnly, SameSite=Strict session cookie (Secure + __Host- under TLS) and audits it', async () => {
    const t = await setup();
    const res = await t.post('/ui/login', {
      username: 'dana.qa',
      password: PASSWORDS['dana.qa']!,
      next: '/ui/releases',
    });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/ui/releases');
    const cookie = res.headers.get('set-cookie')!;
    assert.match(cookie, /^vigil_session=[A-Za-z0-9_-]{43};/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.doesNotMatch(cookie, /Secure/);
    assert.deepEqual(
      t.audit.events.map((e) => [e.type, e.user, e.ip]),
      [['login.success', 'dana.qa', '203.0.113.7']],
    );

    const tls = await setup({ secureCookies: true });
    const secure = (await tls.post('/ui/login', { username: 'dana.qa', password: PASSWORDS['dana.qa']! })).headers.get(
      'set-cookie',
    )!;
    assert.match(secure, /^__Host-vigil_session=/);
    assert.match(secure, /Secure/);
    assert.match(secure, /Path=\//);
  });

  it('never redirects off-site after login', async () => {
    const t = await setup();
    for (const next of ['https://evil.example/', '//evil.example/ui/', '/ui\\..\\x']) {
      const res = await t.post('/ui/login', { username: 'dana.qa', password: PASSWORDS['dana.qa']!, next });
      assert.equal(res.headers.get('location'), '/ui/inbox', next);
    }
  });

  it('locks an account after 5 failed logins: even the right password is then refused (429), and each step is audited', async () => {
    const t = await setup();
    for (let i = 0; i < 5; i++) {
      const res = await t.post('/ui/login', { username: 'dana.qa', password: 'wrong-password' });
      assert.equal(res.status, 401);
      assert.match(await res.text(), /Unknown user id or wrong password/);
    }
    const locked = await t.post('/ui/login', { username: 'dana.qa', password: PASSWORDS['dana.qa']! });
    assert.equal(locked.status, 429);
    assert.ok(Number(locked.headers.get('retry-after')) > 0);
    assert.match(await locked.text(), /locked/);
    assert.equal(locked.headers.get('set-cookie'), null);
    assert.deepEqual(
      t.audit.events.map((e) => e.type),
      ['login.failure', 'login.failure', 'login.failure', 'login.failure', 'login.failure', 'login.locked'],
    );
    assert.equal(t.audit.events[4]!.locked, true);
    assert.ok(!JSON.stringify(t.audit.events).includes('wrong-password'), 'passwords never reach the audit log');
    // Another account is unaffected.
    await t.login('sam.clin');
  });

  it('unlocks after the lockout period', async () => {
    let now = 1_000_000;
    const throttle = new MemoryLoginThrottle(
      { maxFailures: 2, lockoutMs: 60_000, maxAttemptsPerWindow: 100, windowMs: 60_000 },
      () => now,
    );
    const t = await setup({ throttle });
    await t.post('/ui/login', { username: 'dana.qa', password: 'nope-nope' });
    await t.post('/ui/login', { username: 'dana.qa', password: 'nope-nope' });
    assert.equal((await t.post('/ui/login', { username: 'dana.qa', password: PASSWORDS['dana.qa']! })).status, 429);
    now += 60_001;
    assert.equal((await t.post('/ui/login', { username: 'dana.qa', password: PASSWORDS['dana.qa']! })).status, 303);
  });

  it('rate-limits login attempts per client address, across accounts', async () => {
    const throttle = new MemoryLoginThrottle({
      maxFailures: 100,
      lockoutMs: 60_000,
      maxAttemptsPerWindow: 3,
      windowMs: 60_000,
    });
    const t = await setup({ throttle });
    for (const u of ['a.one', 'b.two', 'c.three'])
      assert.equal((await t.post('/ui/login', { username: u, password: 'x-x-x-x' })).status, 401);
    assert.equal((await t.post('/ui/login', { username: 'dana.qa', password: PASSWORDS['dana.qa']! })).status, 429);
    assert.equal(t.audit.events.at(-1)!.type, 'login.rate_limited');
    t.setIp('198.51.100.9');
    assert.equal((await t.post('/ui/login', { username: 'dana.qa', password: PASSWORDS['dana.qa']! })).status, 303);
  });

  it('logout needs the CSRF token and ends the session', async () => {
    const t = await setup();
    const { cookie, csrf } = await t.login('dana.qa');
    assert.equal((await t.post('/ui/logout', {}, { cookie })).status, 403);
    assert.equal((await t.get('/ui/inbox', { cookie })).status, 200);
    assert.equal((await t.post('/ui/logout', { _csrf: csrf }, { cookie })).status, 303);
    assert.equal((await t.get('/ui/inbox', { cookie })).status, 401);
  });

  it('sends security headers and no script', async () => {
    const t = await setup();
    const { cookie } = await t.login('dana.qa');
    const res = await t.get(`/ui/releases/${t.release.releaseId}`, { cookie });
    assert.match(res.headers.get('content-security-policy')!, /default-src 'none'/);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.doesNotMatch(await res.text(), /<script/i);
  });
});

describe('inbox and release page', () => {
  it('lists releases awaiting my roles, but not to the submitter or an auditor', async () => {
    const t = await setup();
    const dana = await t.login('dana.qa');
    assert.match(
      await (await t.get('/ui/inbox', { cookie: dana.cookie })).text(),
      new RegExp(`href="/ui/releases/${t.release.releaseId}"`),
    );
    const alice = await t.login('dev.alice');
    assert.doesNotMatch(await (await t.get('/ui/inbox', { cookie: alice.cookie })).text(), /sepsis-alert-abc-1/);
    const ida = await t.login('ida.audit');
    assert.doesNotMatch(await (await t.get('/ui/inbox', { cookie: ida.cookie })).text(), /sepsis-alert-abc-1/);
  });

  it('shows the dossier the digest names, re-hashed on every view, before the sign form; says so when it fails', async () => {
    const t = await setup();
    const { cookie } = await t.login('dana.qa');
    const page = await (await t.get(`/ui/releases/${t.release.releaseId}`, { cookie })).text();
    assert.match(page, /<section class="vigil-eval"><h3>Metrics by slice<\/h3>/);
    assert.match(page, /<style>\.dossier h2\{color:#123\}<\/style>/, 'the dossier keeps its scoped stylesheet');
    assert.ok(page.indexOf('Metrics by slice') < page.indexOf('name="password"'), 'the dossier comes before the form');
    assert.match(page, new RegExp(`data-testid="dossier-index">${t.release.state.dossier!.sha256}<`));
    const index = JSON.parse(Buffer.from(await t.evidence.getBytes(t.release.state.dossier!.key)).toString('utf8')) as {
      html: { key: string };
    };
    t.evidence.tamper(index.html.key, (s) => s.replace('0.81', '0.99'));
    const tampered = await (await t.get(`/ui/releases/${t.release.releaseId}`, { cookie })).text();
    assert.doesNotMatch(tampered, /AUC 0\.99/);
    assert.match(tampered, /failed its digest check/);
  });

  it('offers only the defined meanings of the role, and refuses any other with the list (400)', async () => {
    const t = await setup();
    const { cookie, csrf } = await t.login('dana.qa');
    const page = await (await t.get(`/ui/releases/${t.release.releaseId}`, { cookie })).text();
    const options = [...page.matchAll(/<option value="([^"]+)" >/g)].map((m) => m[1]).filter((m) => m !== 'qa');
    assert.deepEqual(options, ['reviewed', 'approved', 'responsible for']);
    const res = await t.post(t.signPath, t.signForm(csrf, { meaning: 'approved for canary' }), { cookie });
    assert.equal(res.status, 400);
    assert.match(
      await res.text(),
      /not one of the defined meanings for qa: &quot;reviewed&quot;, &quot;approved&quot;, &quot;responsible for&quot;/,
    );
    assert.equal(t.release.updates.length, 0, 'nothing reached the workflow');
  });

  it('answers 404 for an unknown release', async () => {
    const t = await setup();
    const { cookie } = await t.login('dana.qa');
    assert.equal((await t.get('/ui/releases/nope', { cookie })).status, 404);
  });
});

describe('signing', () => {
  it('refuses a missing or wrong CSRF token (403) and a cross-site origin, sending nothing to the workflow', async () => {
    const t = await setup();
    const { cookie, csrf } = await t.login('dana.qa');
    const { _csrf: _, ...noToken } = t.signForm(csrf);
    assert.equal((await t.post(t.signPath, noToken, { cookie })).status, 403);
    assert.equal((await t.post(t.signPath, t.signForm('forged-token'), { cookie })).status, 403);
    assert.equal((await t.post(t.signPath, t.signForm(csrf), { cookie, origin: 'https://evil.example' })).status, 403);
    assert.equal(t.release.updates.length, 0);
    assert.equal(t.audit.events.filter((e) => e.type === 'csrf.rejected').length, 3);
  });

  it('refuses a role the user does not hold (403) without asking the workflow', async () => {
    const t = await setup();
    const { cookie, csrf } = await t.login('dana.qa');
    const res = await t.post(t.signPath, t.signForm(csrf, { role: 'clinical' }), { cookie });
    assert.equal(res.status, 403);
    assert.match(await res.text(), /do not hold the role clinical/);
    assert.equal(t.release.updates.length, 0);
  });

  it('refuses a role the release does not require (403, from the validator)', async () => {
    const t = await setup();
    const both = await t.login('dana.qa');
    // dana holds qa only; make the policy require clinical+regulatory so qa is not required.
    t.release.state.request.policy.approval.requiredRoles = ['clinical', 'regulatory'];
    const res = await t.post(t.signPath, t.signForm(both.csrf), { cookie: both.cookie });
    assert.equal(res.status, 403);
    assert.match(await res.text(), /role qa is not required/);
  });

  it('requires the password again (401 on a wrong one; counts towards lockout)', async () => {
    const t = await setup();
    const { cookie, csrf } = await t.login('dana.qa');
    const res = await t.post(t.signPath, t.signForm(csrf, { password: 'not-my-password' }), { cookie });
    assert.equal(res.status, 401);
    assert.match(await res.text(), /wrong password/);
    assert.equal(t.release.updates.length, 0);
    assert.equal(t.audit.events.at(-1)!.type, 'signature.refused');
    assert.ok(t.audit.events.some((e) => e.type === 'reauth.failure'));
    for (let i = 0; i < 4; i++) await t.post(t.signPath, t.signForm(csrf, { password: 'not-my-password' }), { cookie });
    assert.equal(
      (await t.post(t.signPath, t.signForm(csrf), { cookie })).status,
      429,
      'locked after 5 failed re-authentications',
    );
  });

  it('refuses a stale dossier digest (409) with the reason', async () => {
    const t = await setup();
    const { cookie, csrf } = await t.login('dana.qa');
    const res = await t.post(t.signPath, t.signForm(csrf, { dossierSha256: '0'.repeat(64) }), { cookie });
    assert.equal(res.status, 409);
    const body = await res.text();
    assert.match(body, /stale dossier digest 0{64}/);
    assert.match(body, new RegExp(`the current dossier is ${t.release.state.dossier!.sha256}`));
  });

  it('refuses self-approval by the submitter (403), even though she holds the role', async () => {
    const t = await setup();
    const { cookie, csrf } = await t.login('dev.alice');
    const res = await t.post(t.signPath, t.signForm(csrf, { password: PASSWORDS['dev.alice']! }), { cookie });
    assert.equal(res.status, 403);
    assert.match(await res.text(), /separation of duties/);
    assert.equal(t.release.state.signatures.length, 0);
  });

  it('takes the signer from the session, never from the form', async () => {
    const t = await setup();
    const { cookie, csrf } = await t.login('dana.qa');
    const res = await t.post(
      t.signPath,
      { ...t.signForm(csrf), signer: 'sam.clin', printedName: 'Someone Else' },
      { cookie },
    );
    assert.equal(res.status, 200);
    assert.deepEqual([t.release.updates[0]!.signer, t.release.updates[0]!.printedName], ['dana.qa', 'Dana Whitfield']);
    const page = await res.text();
    // 21 CFR 11.50 manifestation: printed name, time (the signer's zone and UTC), meaning; and the reason.
    assert.match(page, /<strong>Dana Whitfield<\/strong>/);
    assert.match(page, /Meaning: <em>approved<\/em>/);
    assert.equal(t.release.updates[0]!.timeZone, 'Europe/Berlin', "the signer's zone goes into the record");
    assert.match(
      page,
      /<time datetime="2026-11-26T09:00:00.000Z">2026-11-26 10:00:00 CET \(Europe\/Berlin\) · 2026-11-26 09:00:00 UTC<\/time>/,
    );
    assert.match(page, /Reason: <span data-testid="reason">evidence reviewed<\/span>/);
    assert.equal(t.audit.events.at(-1)!.type, 'signature.accepted');
  });

  it('is idempotent: the same signature submitted twice (in sequence or at once) is recorded once, both answered 200', async () => {
    const t = await setup();
    const { cookie, csrf } = await t.login('dana.qa');
    const first = await t.post(t.signPath, t.signForm(csrf), { cookie });
    const again = await t.post(t.signPath, t.signForm(csrf), { cookie });
    assert.deepEqual([first.status, again.status], [200, 200]);
    assert.match(await again.text(), /already recorded/);
    assert.equal(t.release.state.signatures.length, 1);
    assert.equal(t.release.updates.length, 1, 'the repeat never reached the workflow');

    const s = await setup();
    s.release.handlerDelayMs = 150;
    const sam = await s.login('sam.clin');
    const form = s.signForm(sam.csrf, { role: 'clinical', password: PASSWORDS['sam.clin']! });
    const [a, b] = await Promise.all([
      s.post(s.signPath, form, { cookie: sam.cookie }),
      s.post(s.signPath, form, { cookie: sam.cookie }),
    ]);
    assert.deepEqual([a.status, b.status], [200, 200]);
    assert.equal(s.release.state.signatures.length, 1);
  });

  it('a different second signature from the same person is refused (409), not treated as a repeat', async () => {
    const t = await setup();
    const { cookie, csrf } = await t.login('dana.qa');
    await t.post(t.signPath, t.signForm(csrf), { cookie });
    const res = await t.post(
      t.signPath,
      t.signForm(csrf, { decision: 'reject', meaning: 'reviewed', reason: 'changed my mind' }),
      { cookie },
    );
    assert.equal(res.status, 409);
  });

  it('escapes user text in pages', async () => {
    const t = await setup();
    const { cookie, csrf } = await t.login('dana.qa');
    await t.post(t.signPath, t.signForm(csrf, { reason: '<script>alert(1)</script>' }), { cookie });
    const page = await (await t.get(`/ui/releases/${t.release.releaseId}`, { cookie })).text();
    assert.match(page, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  });
});

describe('auditor timeline', () => {
  it('shows each signature with its manifestation and verifies its DSSE seal; an edited record fails', async () => {
    const t = await setup();
    const dana = await t.login('dana.qa');
    await t.post(t.signPath, t.signForm(dana.csrf), { cookie: dana.cookie });
    const ida = await t.login('ida.audit');
    const url = `/ui/releases/${t.release.releaseId}/timeline`;
    const page = await (await t.get(url, { cookie: ida.cookie })).text();
    assert.match(page, /<strong>Dana Whitfield<\/strong>/);
    assert.match(page, /data-testid="verification" class="ok">✔ record digest verified; sealed by system key/);
    assert.doesNotMatch(page, /<form[^>]+\/sign"/, 'the timeline is read-only');

    const rec = t.release.state.signatures[0]!.evidence;
    const envelope = await t.get(`/ui/releases/${t.release.releaseId}/signatures/${rec.sha256}/envelope`, {
      cookie: ida.cookie,
    });
    assert.equal(envelope.status, 200);
    assert.equal(JSON.parse(await envelope.text()).payloadType, 'application/vnd.in-toto+json');

    t.evidence.tamper(rec.key, (s) => s.replace('evidence reviewed', 'evidence skimmed'));
    const after = await (await t.get(url, { cookie: ida.cookie })).text();
    assert.match(after, /class="bad">✗ signature record failed its digest check/);
  });
});
