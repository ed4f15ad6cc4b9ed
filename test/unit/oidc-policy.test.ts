/** The OIDC judging functions (src/auth/oidc/policy.ts) and the audit's check of OIDC signatures (src/audit). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authenticationRecord, identityFromClaims, signingRefusal } from '../../src/auth/oidc';
import { checkSignerAuthentication } from '../../src/audit/signer-authentication';
import { collectSignatures } from '../../src/audit/signature-manifestations';
import { loadConfig } from '../../src/config';

const SETTINGS = {
  usernameClaim: 'preferred_username',
  nameClaim: 'name',
  rolesClaim: 'groups',
  roleMap: { 'vigil-qa': ['qa' as const], 'vigil-reg': ['regulatory' as const, 'auditor' as const] },
  signingMaxAgeSeconds: 300,
  signingAmr: ['mfa'],
  signingAcr: [] as string[],
  clockToleranceSeconds: 30,
};
const NOW = 1_800_000_000;

describe('identityFromClaims', () => {
  it('maps groups to roles (several, deduplicated, unknown ignored) and takes the printed name from the name claim', () => {
    const r = identityFromClaims(SETTINGS, {
      preferred_username: 'rita.reg',
      name: 'Rita Regulatory',
      groups: ['staff', 'vigil-reg', 'vigil-qa', 'vigil-reg'],
    });
    assert.deepEqual(r, {
      identity: { id: 'rita.reg', name: 'Rita Regulatory', roles: ['regulatory', 'auditor', 'qa'] },
    });
  });
  it('accepts a single string roles claim (as Entra app roles may arrive)', () => {
    const r = identityFromClaims(
      { ...SETTINGS, rolesClaim: 'roles' },
      { preferred_username: 'd', name: 'D', roles: 'vigil-qa' },
    );
    assert.deepEqual('identity' in r && r.identity.roles, ['qa']);
  });
  it('refuses without a mapped group, a name or a user id, naming the claim', () => {
    assert.match(
      (identityFromClaims(SETTINGS, { preferred_username: 'x', name: 'X', groups: ['staff'] }) as { refusal: string })
        .refusal,
      /x holds no Vigil role: none of the values of the "groups" claim is mapped/,
    );
    assert.match(
      (identityFromClaims(SETTINGS, { preferred_username: 'x', groups: ['vigil-qa'] }) as { refusal: string }).refusal,
      /"name" claim/,
    );
    assert.match(
      (identityFromClaims(SETTINGS, { name: 'X', groups: ['vigil-qa'] }) as { refusal: string }).refusal,
      /"preferred_username" claim/,
    );
  });
});

describe('signingRefusal', () => {
  const fresh = { authTime: NOW - 10, amr: ['pwd', 'mfa'], acr: 'loa2' };
  it('accepts a fresh MFA authentication made after the request', () => {
    assert.equal(signingRefusal(SETTINGS, fresh, NOW, NOW - 20), null);
  });
  it('refuses one older than max age plus tolerance, and accepts one just inside', () => {
    assert.equal(signingRefusal(SETTINGS, { ...fresh, authTime: NOW - 330 }, NOW), null);
    assert.match(
      signingRefusal(SETTINGS, { ...fresh, authTime: NOW - 331 }, NOW)!,
      /is 331 s old; signing needs one at most 300 s old/,
    );
  });
  it('refuses one made before the signing request (the provider did not re-authenticate)', () => {
    assert.match(
      signingRefusal(SETTINGS, fresh, NOW, NOW - 10 + 31)!,
      /did not re-authenticate you for this signature/,
    );
  });
  it('refuses without auth_time, without the required amr, or with an acr not allowed', () => {
    assert.match(signingRefusal(SETTINGS, { ...fresh, authTime: undefined }, NOW)!, /no auth_time claim/);
    assert.match(
      signingRefusal(SETTINGS, { ...fresh, amr: ['pwd'] }, NOW)!,
      /"mfa" \(amr\); the identity provider reported "pwd"/,
    );
    assert.match(signingRefusal(SETTINGS, { ...fresh, amr: undefined }, NOW)!, /reported none/);
    assert.match(
      signingRefusal({ ...SETTINGS, signingAcr: ['loa3'] }, fresh, NOW)!,
      /acr\) of "loa3"; the identity provider reported "loa2"/,
    );
  });
});

describe('audit: OIDC authentication on a signature record', () => {
  const record = (at: string, authTime: number) => ({
    kind: 'vigil.signature/v1',
    at,
    authentication: authenticationRecord(
      {
        issuer: 'https://idp.example',
        subject: 's-1',
        claims: {},
        authTime,
        acr: 'loa2',
        amr: ['pwd', 'mfa'],
        idTokenSha256: 'a'.repeat(64),
      },
      SETTINGS,
    ),
  });
  const at = new Date(NOW * 1000).toISOString();
  it('passes a consistent record and summarises it', () => {
    const r = checkSignerAuthentication(record(at, NOW - 100), 'k');
    assert.deepEqual(r.findings, []);
    assert.equal(r.authentication?.subject, 's-1');
    assert.equal(r.authentication?.authTime, new Date((NOW - 100) * 1000).toISOString());
  });
  it('finds an authentication older than the max age at signing, or later than the signature', () => {
    assert.match(
      checkSignerAuthentication(record(at, NOW - 331), 'k').findings[0]!.problem,
      /older than the 300 s allowed/,
    );
    assert.match(checkSignerAuthentication(record(at, NOW + 31), 'k').findings[0]!.problem, /later than the signature/);
  });
  it('finds missing or malformed fields, naming them', () => {
    const r = record(at, NOW);
    const { subject: _s, ...noSubject } = r.authentication;
    const f = checkSignerAuthentication(
      { ...r, authentication: { ...noSubject, idTokenSha256: 'nothex' } },
      'k',
    ).findings;
    assert.match(f[0]!.problem, /lacks or has malformed authentication fields: subject, idTokenSha256/);
  });
  it('says nothing of a users-file signature (no authentication)', () => {
    assert.deepEqual(checkSignerAuthentication({ kind: 'vigil.signature/v1', at }, 'k'), { findings: [] });
  });
});

describe('configuration: VIGIL_OIDC_*', () => {
  const env = {
    VIGIL_OIDC_ISSUER: 'https://login.example.com/tenant/v2.0',
    VIGIL_OIDC_CLIENT_ID: 'vigil',
    VIGIL_OIDC_CLIENT_SECRET: 'secret-0123456789',
    VIGIL_OIDC_ROLE_MAP: 'Vigil QA=qa, vigil-clin=clinical,vigil-clin=auditor',
    VIGIL_OIDC_SIGNING_AMR: 'mfa',
    VIGIL_API_URL: 'https://vigil.example.com/',
  };
  it('parses issuer, client, role map, signing policy; the redirect URI defaults under the API URL', () => {
    const o = loadConfig(env).auth.oidc!;
    assert.deepEqual(o.roleMap, { 'Vigil QA': ['qa'], 'vigil-clin': ['clinical', 'auditor'] });
    assert.equal(o.redirectUri, 'https://vigil.example.com/ui/oidc/callback');
    assert.equal(o.signingMaxAgeSeconds, 300);
    assert.deepEqual(o.signingAmr, ['mfa']);
    assert.equal(o.stateKey.length, 32);
    // Every replica derives the same sealing key from the shared secret.
    assert.deepEqual(loadConfig(env).auth.oidc!.stateKey, o.stateKey);
    assert.equal(loadConfig({}).auth.oidc, null);
    assert.equal(o.postLogoutRedirectUri, undefined, 'no post-logout redirect unless configured');
    assert.equal(
      loadConfig({ ...env, VIGIL_OIDC_POST_LOGOUT_REDIRECT_URI: 'https://vigil.example.com/ui/login' }).auth.oidc!
        .postLogoutRedirectUri,
      'https://vigil.example.com/ui/login',
    );
  });
  it('refuses a role map entry naming no Vigil role, a missing secret, and plain http off loopback', () => {
    assert.throws(
      () => loadConfig({ ...env, VIGIL_OIDC_ROLE_MAP: 'qa-group=superuser' }),
      /VIGIL_OIDC_ROLE_MAP: "qa-group=superuser" is not/,
    );
    assert.throws(
      () => loadConfig({ ...env, VIGIL_OIDC_CLIENT_SECRET: undefined }),
      /VIGIL_OIDC_CLIENT_SECRET: required/,
    );
    assert.throws(() => loadConfig({ ...env, VIGIL_OIDC_ISSUER: 'http://idp.example.com' }), /must be https/);
  });
});

describe('audit: signature manifestations carry the OIDC authentication', () => {
  it('shows issuer, subject and auth_time, and reports a tampered auth_time as a finding', () => {
    const ref = (key: string, doc: unknown) => {
      const bytes = Buffer.from(JSON.stringify(doc));
      return { ref: { key, sha256: 'c'.repeat(64), size: bytes.length, mediaType: 'application/json' }, bytes };
    };
    const dossier = ref('sha256/dossier', { kind: 'vigil.dossier/v1' });
    const at = new Date(NOW * 1000).toISOString();
    const good = {
      kind: 'vigil.signature/v1',
      printedName: 'Dana Whitfield',
      signer: 'dana.qa',
      role: 'qa',
      decision: 'approve',
      meaning: 'approved',
      reason: 'ok',
      at,
      dossierSha256: 'c'.repeat(64),
      authentication: authenticationRecord(
        {
          issuer: 'https://idp.example',
          subject: 's-1',
          claims: {},
          authTime: NOW - 60,
          acr: undefined,
          amr: ['pwd', 'mfa'],
          idTokenSha256: 'a'.repeat(64),
        },
        SETTINGS,
      ),
    };
    const stale = {
      ...good,
      signer: 'sam.clin',
      authentication: { ...good.authentication, authTime: new Date((NOW - 3600) * 1000).toISOString() },
    };
    const a = ref('sha256/sig-a', good);
    const b = ref('sha256/sig-b', stale);
    const entry = {
      releaseId: 'r',
      seq: 3,
      stage: 'AWAITING_APPROVAL',
      step: null,
      prevEntryDigest: null,
      artifacts: [dossier.ref, a.ref, b.ref],
      decision: { verdict: 'pass', reasons: [] },
      at,
      key: 'releases/r/chain/3',
      digest: 'd'.repeat(64),
    };
    const objects = new Map([dossier, a, b].map((x) => [x.ref.key, new Uint8Array(x.bytes)]));
    const { signatures, findings } = collectSignatures([entry], objects);
    assert.deepEqual(signatures[0]!.authentication, {
      issuer: 'https://idp.example',
      subject: 's-1',
      authTime: new Date((NOW - 60) * 1000).toISOString(),
      amr: ['pwd', 'mfa'],
    });
    assert.deepEqual(
      findings.map((f) => [f.key, f.problem]),
      [['sha256/sig-b', 'OIDC authentication is older than the 300 s allowed at signing']],
    );
  });
});
