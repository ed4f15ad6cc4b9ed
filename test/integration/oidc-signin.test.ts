/**
 * Sign-in and re-authentication at signing through a real OpenID provider (oidc-provider, test/support), over the
 * UI's HTTP routes (app.request). The release is the workflow's own ReleaseState behind a fake Temporal port
 * (test/unit/ui-fakes.ts), so accepted signatures are recorded by the real recordSignature activity.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemoryAuditLog, MemoryLoginThrottle, MemorySessionStore } from '../../src/auth';
import { openLoginState, sealLoginState, type OidcSettings } from '../../src/auth/oidc';
import {
  awaitingRelease,
  browserAt,
  capturingLog,
  csrfOf as csrfIn,
  dana,
  DANA_OTP,
  JWT,
  misbehaving,
  oidcReplica,
  oidcSettings,
  REDIRECT,
  sam,
  signIn,
  startSigning,
  uiClient,
} from '../support/oidc-harness';
import { ACR_MFA, confirmEndSession, IdpAgent, startTestOp, type TestOp } from '../support/oidc-provider';

// Every log line at trace level, to check that no token is ever logged.
const { log, lines: logLines } = capturingLog('oidc-test');
const SIGNED_OUT = 'http://vigil.test/ui/login';
const USERS = [
  dana(),
  sam(),
  { sub: 'sub-nemo-0000', username: 'nemo', name: 'Nemo Staff', groups: ['staff'], password: 'nemo-pw' },
];
const user = (name: string) => USERS.find((u) => u.username === name)!;

let op: TestOp;
before(async () => {
  op = await startTestOp({ users: USERS, clients: [uiClient(REDIRECT, { post_logout_redirect_uris: [SIGNED_OUT] })] });
});
after(async () => op?.stop());

/** Vigil's UI on a fake Temporal port, and a browser-like cookie jar for Vigil and for the provider. */
async function setup(over: Partial<OidcSettings> = {}) {
  const fixture = await awaitingRelease();
  const audit = new MemoryAuditLog();
  const s = oidcSettings(op, { cliClientId: undefined, ...over });
  // Two API replicas behind a balancer: shared session store and sealing key, each its own OIDC identity cache.
  const shared = { log, audit, sessions: new MemorySessionStore(), throttle: new MemoryLoginThrottle() };
  const replicas = [oidcReplica(fixture, s, shared), oidcReplica(fixture, s, shared)];
  let current = 0;
  const jar = new Map<string, string>();
  const idp = new IdpAgent();
  const vigil = browserAt(() => replicas[current]!.app, jar);
  const release = fixture.release;
  return {
    vigil,
    login: (name: string) => signIn(vigil, idp, user(name)),
    startSigning: (over: Record<string, string> = {}) => startSigning(vigil, release, over),
    release,
    audit,
    idp,
    jar,
    settings: s,
    oidc: replicas[0]!.oidc,
    replicas,
    onReplica: (i: number) => (current = i),
  };
}

describe('OIDC sign-in (authorization code + PKCE against oidc-provider)', () => {
  it('maps the groups claim to Vigil roles and the name claim to the printed name; no token reaches the audit log', async () => {
    const t = await setup();
    await t.login('dana.qa');
    const inbox = await t.vigil('/ui/inbox');
    assert.equal(inbox.status, 200);
    assert.match(await inbox.text(), /Dana Whitfield/);
    assert.deepEqual(t.oidc.identities.lookup('dana.qa')?.roles, ['qa']);
    const ok = t.audit.events.find((e) => e.type === 'login.success')!;
    assert.equal(ok.user, 'dana.qa');
    assert.equal(ok.subject, 'sub-dana-7f3a');
    assert.equal(ok.issuer, op.issuer);
    assert.doesNotMatch(JSON.stringify(t.audit.events), JWT);
  });

  it('refuses a person none of whose groups maps to a Vigil role, naming the claim', async () => {
    const t = await setup();
    const start = await t.vigil('/ui/oidc/login');
    const { callback } = await t.idp.authorize(start.headers.get('location')!, REDIRECT, user('nemo'));
    const res = await t.vigil(callback.toString());
    assert.equal(res.status, 403);
    assert.match(
      await res.text(),
      /nemo holds no Vigil role: none of the values of the &quot;groups&quot; claim is mapped/,
    );
  });

  it('answers 503 with the reason when the provider cannot be reached', async () => {
    const t = await setup({ issuer: 'http://127.0.0.1:9' });
    const res = await t.vigil('/ui/oidc/login');
    assert.equal(res.status, 503);
    assert.match(await res.text(), /the identity provider at http:\/\/127\.0\.0\.1:9 cannot be reached/);
  });

  it('refuses a replayed callback: the state is used up, and the code is single-use', async () => {
    const t = await setup();
    const start = await t.vigil('/ui/oidc/login');
    const sealed = t.jar.get('vigil_oidc')!;
    const { callback } = await t.idp.authorize(start.headers.get('location')!, REDIRECT, user('dana.qa'));
    assert.equal((await t.vigil(callback.toString())).status, 200);
    const again = await t.vigil(callback.toString());
    assert.equal(again.status, 400);
    assert.match(await again.text(), /unknown, has expired or was already used/);
    // An attacker who kept the sealed state cookie as well: the provider refuses the used code.
    const withCookie = await t.vigil(callback.toString(), undefined, new Map([['vigil_oidc', sealed]]));
    assert.equal(withCookie.status, 401);
    assert.match(await withCookie.text(), /refused the code exchange: invalid_grant/);
  });

  it('refuses an ID token minted for another sign-in (nonce mismatch)', async () => {
    const t = await setup();
    const start = await t.vigil('/ui/oidc/login');
    const state = (await openLoginState(t.settings.stateKey, t.jar.get('vigil_oidc')))!;
    // The callback carries this login's code and state, but the browser's pending login expects another nonce.
    t.jar.set('vigil_oidc', await sealLoginState(t.settings.stateKey, { ...state, nonce: 'nonce-of-another-login' }));
    const { callback } = await t.idp.authorize(start.headers.get('location')!, REDIRECT, user('dana.qa'));
    const res = await t.vigil(callback.toString());
    assert.equal(res.status, 401);
    assert.match(await res.text(), /nonce mismatch/);
    assert.equal(t.oidc.identities.lookup('dana.qa'), null);
  });
});

describe('signing out (RP-initiated logout)', () => {
  it("ends the provider's session too: the next sign-in asks for the password again", async () => {
    const t = await setup({ postLogoutRedirectUri: SIGNED_OUT });
    await t.login('dana.qa');
    // While the provider's session lives, signing in again needs no password (single sign-on).
    const silent = await t.vigil('/ui/oidc/login');
    const again = await t.idp.authorize(silent.headers.get('location')!, REDIRECT, user('dana.qa'));
    assert.equal(again.loginShown, false, 'the provider session signs in silently');
    assert.equal((await t.vigil(again.callback.toString())).status, 200);

    const out = await t.vigil('/ui/logout', { _csrf: await csrfOf(t) });
    assert.equal(out.status, 200);
    const page = await out.text();
    const end = new URL(/id="end-session" href="([^"]+)"/.exec(page)![1]!.replace(/&amp;/g, '&'));
    assert.equal(`${end.origin}${end.pathname}`, `${op.issuer}/session/end`);
    assert.equal(end.searchParams.get('client_id'), 'vigil-ui');
    assert.equal(end.searchParams.get('post_logout_redirect_uri'), SIGNED_OUT);
    assert.equal(end.searchParams.get('id_token_hint'), null, 'Vigil keeps no ID token to send');
    assert.equal((await t.vigil('/ui/inbox')).status, 401, 'the Vigil session ended');
    assert.ok(t.audit.events.some((e) => e.type === 'logout' && e.user === 'dana.qa'));

    const ended = await confirmEndSession(t.idp, end.toString(), SIGNED_OUT);
    assert.ok(ended.asked);
    assert.equal(ended.status, 0, `back at Vigil's sign-in page, not ${ended.url}`);
    assert.ok(ended.url.startsWith(SIGNED_OUT), ended.url);

    const next = await t.vigil('/ui/oidc/login');
    const fresh = await t.idp.authorize(next.headers.get('location')!, REDIRECT, user('dana.qa'));
    assert.equal(fresh.loginShown, true, 'the provider asks for the login again');
    assert.equal((await t.vigil(fresh.callback.toString())).status, 200);
  });

  it('says so when the provider advertises no end-session endpoint', async () => {
    const t = await setup();
    await t.login('dana.qa');
    // A provider without RP-initiated logout: its discovered metadata has no end_session_endpoint.
    const client = t.replicas[0]!.oidc.client;
    const real = await client.configuration();
    // Only serverMetadata() is consulted on the way to "no end-session endpoint".
    const withoutEndSession = {
      serverMetadata: () => ({ ...real.serverMetadata(), end_session_endpoint: undefined }),
    } as unknown as typeof real;
    client.configuration = () => Promise.resolve(withoutEndSession);
    const out = await t.vigil('/ui/logout', { _csrf: await csrfOf(t) });
    assert.equal(out.status, 200);
    const page = await out.text();
    assert.doesNotMatch(page, /end-session/);
    assert.match(page, /could not be asked to end your session there/);
    assert.equal((await t.vigil('/ui/inbox')).status, 401, 'the Vigil session ended all the same');
  });
});

async function csrfOf(t: { vigil: (p: string) => Promise<Response> }): Promise<string> {
  return csrfIn(await (await t.vigil('/ui/inbox')).text());
}

describe('re-authentication at signing (prompt=login, max_age, auth_time, amr)', () => {
  it('sends the signer back to the provider, which asks for the login again; the record carries auth_time and subject', async () => {
    const t = await setup();
    await t.login('dana.qa');
    const to = new URL(await t.startSigning());
    assert.equal(to.searchParams.get('prompt'), 'login');
    assert.equal(to.searchParams.get('max_age'), '300');
    const before = Math.floor(Date.now() / 1000);
    const { callback, loginShown } = await t.idp.authorize(to.toString(), REDIRECT, user('dana.qa'), DANA_OTP);
    assert.equal(loginShown, true, 'the provider must ask for the credentials again despite its session');
    const res = await t.vigil(callback.toString());
    const page = await res.text();
    assert.equal(res.status, 200, page);
    const sig = t.release.state.signatures[0]!;
    assert.equal(sig.signer, 'dana.qa');
    assert.equal(sig.printedName, 'Dana Whitfield');
    const auth = sig.authentication!;
    assert.equal(auth.issuer, op.issuer);
    assert.equal(auth.subject, 'sub-dana-7f3a');
    assert.ok(Date.parse(auth.authTime) / 1000 >= before - 1, `auth_time ${auth.authTime} is the fresh login`);
    assert.deepEqual(auth.amr, ['pwd', 'otp', 'mfa']);
    assert.equal(auth.acr, ACR_MFA);
    assert.match(auth.idTokenSha256, /^[0-9a-f]{64}$/);
    assert.equal(auth.maxAgeSeconds, 300);
    // The evidence record (written by the real activity) carries the same, and no token.
    const stored = t.release.evidence.objects.get(sig.evidence.key)!.bytes.toString('utf8');
    assert.equal(JSON.parse(stored).authentication.subject, 'sub-dana-7f3a');
    assert.doesNotMatch(stored, JWT);
    assert.doesNotMatch(JSON.stringify(t.audit.events), JWT);
    // The release page and the timeline show the provider, subject, auth_time and amr with the signature.
    for (const path of [`/ui/releases/${t.release.releaseId}`, `/ui/releases/${t.release.releaseId}/timeline`]) {
      const html = await (await t.vigil(path)).text();
      const shown =
        /<span data-testid="authentication" data-subject="([^"]+)" data-auth-time="([^"]+)">(.*?)<\/span>(?=<br>)/s.exec(
          html,
        );
      assert.ok(shown, `${path} shows the authentication`);
      assert.deepEqual([shown[1], shown[2]], ['sub-dana-7f3a', auth.authTime]);
      assert.match(shown[3]!, new RegExp(`Authenticated at <code>${op.issuer}</code> as <code>sub-dana-7f3a</code>`));
      assert.match(shown[3]!, /\(amr: pwd, otp, mfa\)/);
    }
  });

  it('refuses an authentication older than max_age, with the reason', async () => {
    const t = await setup();
    await t.login('dana.qa');
    const to = await t.startSigning();
    const res = await misbehaving(op, { authTimeShiftSeconds: 600 }, async () => {
      const { callback } = await t.idp.authorize(to, REDIRECT, user('dana.qa'), DANA_OTP);
      return t.vigil(callback.toString());
    });
    assert.equal(res.status, 401);
    assert.match(await res.text(), /older than signing allows \(auth_time past max_age\)/);
    assert.equal(t.release.state.signatures.length, 0);
    assert.ok(t.audit.events.some((e) => e.type === 'reauth.failure' && e.reason === 'stale-auth-time'));
  });

  it('refuses an authentication within max_age but older than the signing request (no re-authentication happened)', async () => {
    const t = await setup();
    await t.login('dana.qa');
    const to = await t.startSigning();
    const res = await misbehaving(op, { authTimeShiftSeconds: 120 }, async () => {
      const { callback } = await t.idp.authorize(to, REDIRECT, user('dana.qa'), DANA_OTP);
      return t.vigil(callback.toString());
    });
    assert.equal(res.status, 401);
    assert.match(await res.text(), /did not re-authenticate you for this signature/);
    assert.equal(t.release.state.signatures.length, 0);
  });

  it("refuses the answer of a provider that ignores prompt=login (its session's old auth_time)", async () => {
    const t = await setup({ signingAmr: [], clockToleranceSeconds: 0 });
    await t.login('dana.qa');
    // auth_time has whole seconds: sign in one second, ask to sign in a later one.
    await new Promise((r) => setTimeout(r, 1100));
    const to = await t.startSigning();
    const { res, loginShown } = await misbehaving(op, { ignorePromptLogin: true }, async () => {
      const { callback, loginShown } = await t.idp.authorize(to, REDIRECT, user('dana.qa'));
      return { res: await t.vigil(callback.toString()), loginShown };
    });
    assert.equal(loginShown, false, 'this provider answered from its session');
    assert.equal(res.status, 401);
    assert.match(
      await res.text(),
      /did not re-authenticate you for this signature \(auth_time .* is before the signing request/,
    );
    assert.equal(t.release.state.signatures.length, 0);
  });

  it('refuses a re-authentication without the amr the policy requires (mfa)', async () => {
    const t = await setup();
    await t.login('dana.qa');
    const to = await t.startSigning();
    const { callback } = await t.idp.authorize(to, REDIRECT, user('dana.qa'));
    const res = await t.vigil(callback.toString());
    assert.equal(res.status, 401);
    assert.match(
      await res.text(),
      /signing requires the authentication method\(s\) &quot;mfa&quot; \(amr\); the identity provider reported &quot;pwd&quot;/,
    );
    assert.equal(t.release.state.signatures.length, 0);
  });

  it('refuses when another person re-authenticates at the provider', async () => {
    const t = await setup({ signingAmr: [] });
    await t.login('dana.qa');
    const to = await t.startSigning();
    const { callback } = await t.idp.authorize(to, REDIRECT, user('sam.clin'));
    const res = await t.vigil(callback.toString());
    assert.equal(res.status, 401);
    assert.match(await res.text(), /is not dana\.qa; the signature was not submitted/);
    assert.equal(t.release.state.signatures.length, 0);
  });

  it('checks the form before the trip: an undefined meaning never reaches the provider', async () => {
    const t = await setup();
    await t.login('dana.qa');
    const res = await t.vigil(`/ui/releases/${t.release.releaseId}/sign`, {
      _csrf: csrfIn(await (await t.vigil(`/ui/releases/${t.release.releaseId}`)).text()),
      role: 'qa',
      decision: 'approve',
      meaning: 'glanced at',
      reason: 'x',
      dossierSha256: t.release.state.dossier!.sha256,
    });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /is not one of the defined meanings for qa/);
  });

  it('works across two API replicas: signed in on one, the session and the signing round trip finish on the other', async () => {
    const t = await setup();
    await t.login('dana.qa');
    t.onReplica(1);
    assert.equal(t.replicas[1]!.oidc.identities.lookup('dana.qa'), null, 'replica 1 never saw the sign-in');
    // The session in the shared store is the one source of who signed in: no identity cookie travels beside it.
    assert.deepEqual([...t.jar.keys()], ['vigil_session'], 'only the session cookie');
    const inbox = await t.vigil('/ui/inbox');
    assert.equal(inbox.status, 200);
    assert.match(await inbox.text(), /Dana Whitfield/);
    const to = await t.startSigning();
    t.onReplica(0);
    const { callback } = await t.idp.authorize(to, REDIRECT, user('dana.qa'), DANA_OTP);
    t.onReplica(1);
    const res = await t.vigil(callback.toString());
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(t.release.state.signatures[0]!.authentication!.subject, 'sub-dana-7f3a');
  });

  it('keeps verifying after the provider rotates its signing key', async () => {
    const t = await setup({ signingAmr: [] });
    await t.login('dana.qa');
    const before = op.keyIds()[0];
    await op.rotateKeys();
    assert.notEqual(op.keyIds()[0], before);
    // jose's key set refetches for an unknown key id once its 1 s cooldown after the last fetch has passed.
    await new Promise((r) => setTimeout(r, 1100));
    const to = await t.startSigning();
    const { callback } = await t.idp.authorize(to, REDIRECT, user('dana.qa'));
    const res = await t.vigil(callback.toString());
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(t.release.state.signatures[0]!.authentication!.subject, 'sub-dana-7f3a');
  });
});

describe('logs', () => {
  it('hold no token after every case above', () => {
    assert.ok(logLines.length > 0, 'the API logged something at trace level');
    assert.doesNotMatch(logLines.join(''), JWT);
  });
});
