/**
 * Clinical shadow on the real stack (Temporal dev server, SeaweedFS, in-process worker): κ, correlation, latency
 * and drift measured on simulated traffic against the demo's locked evaluation data, a de-identified disagreement
 * sample in the evidence store (not in history), adjudications through the web UI, the JSON API and the Update,
 * then the release proceeds and the audit recomputes the SHADOW decision from the recorded tally.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DisagreementSample } from '../../src/activities/shadow';
import { createApp } from '../../src/api';
import {
  FileIdentityProvider,
  hashPassword,
  MemoryLoginThrottle,
  MemoryAuditLog,
  MemorySessionStore,
} from '../../src/auth';
import type { AuditReport } from '../../src/audit';
import { run as cli } from '../../src/cli/program';
import type { ReleaseStatus, ShadowMeasurement } from '../../src/domain';
import { adjudicateCaseUpdate, approveReleaseUpdate, releaseStatusQuery } from '../../src/domain/messages';
import { createLogger } from '../../src/logging/logger';
import type { UiDeps } from '../../src/ui';
import {
  demoRequest,
  fastPolicy,
  type Harness,
  reviewerApproval,
  startHarness,
  startRelease,
  waitFor,
} from '../support/harness';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.stop();
});

const log = createLogger('shadow-adjudication-test', 'silent');
const TOKEN = 'api-token-shadow-adjudication';
const PASSWORDS: Record<string, string> = {
  'sam.clin': 'sam-password-1',
  'dana.qa': 'dana-password-1',
  'alex.mle': 'alex-password-1',
};

async function appUnderTest() {
  const FAST = { N: 1024, r: 8, p: 1 };
  const identities = new FileIdentityProvider({
    users: [
      {
        id: 'sam.clin',
        name: 'Dr Sam Okafor',
        roles: ['clinical'],
        passwordHash: await hashPassword(PASSWORDS['sam.clin']!, FAST),
        disabled: false,
      },
      {
        id: 'dana.qa',
        name: 'Dana Whitfield',
        roles: ['qa'],
        passwordHash: await hashPassword(PASSWORDS['dana.qa']!, FAST),
        disabled: false,
      },
      {
        id: 'alex.mle',
        name: 'Alex Engineer',
        roles: ['qa'],
        passwordHash: await hashPassword(PASSWORDS['alex.mle']!, FAST),
        disabled: false,
      },
    ],
  });
  const ui: UiDeps = {
    client: h.client,
    evidence: h.evidence,
    identities,
    usersConfigured: true,
    sessions: new MemorySessionStore(),
    throttle: new MemoryLoginThrottle(),
    audit: new MemoryAuditLog(),
    verifiers: [],
    systemKeyPem: null,
    secureCookies: false,
    log,
  };
  return createApp({
    client: h.client,
    config: { api: { host: '127.0.0.1', port: 0, url: 'http://x', token: TOKEN } },
    log,
    ui,
  });
}

const sign = reviewerApproval;

describe('clinical shadow with adjudication on the real stack', () => {
  it('measures, samples disagreements as evidence, takes adjudications from UI, API and Update, proceeds and audits', async () => {
    const app = await appUnderTest();
    const policy = await fastPolicy('demo.yaml', (p) => {
      p.shadow.minKappa = 0.3;
      p.shadow.maxPsi = 0.25;
      p.shadow.adjudication = { sampleSize: 8, minAdjudicated: 3, maxCandidateWrongShare: 0.5, timeoutSeconds: 3600 };
    });
    const handle = await startRelease(h, await demoRequest(h, policy));
    const releaseId = handle.workflowId;
    const open = await waitFor(
      'the adjudication window',
      async () => {
        const s = await handle.query(releaseStatusQuery);
        assert.equal(s.outcome, null, `ended early: ${s.reason}`);
        return s.shadowAdjudication?.open ? s : null;
      },
      120_000,
    );
    const a = open.shadowAdjudication!;
    assert.ok(a.sampled >= 3 && a.sampled <= 8, `sampled ${a.sampled}`);
    assert.equal(a.required, 3);

    // The sample: stratified by site × direction, hashed case ids, the inputs a reviewer needs; never raw ids.
    const sampleText = (await h.evidence.getBytes(a.sample!.key, a.sample!.sha256)).toString('utf8');
    const sample = JSON.parse(sampleText) as DisagreementSample;
    assert.equal(sample.kind, 'vigil.shadow-disagreements/v1');
    assert.equal(sample.cases.length, a.sampled);
    assert.deepEqual(
      sample.cases.map((c) => c.sampleId),
      Array.from({ length: a.sampled }, (_, i) => `d-${String(i + 1).padStart(3, '0')}`),
    );
    for (const c of sample.cases) {
      assert.match(c.caseIdHash, /^[0-9a-f]{64}$/);
      assert.deepEqual(Object.keys(c.features), ['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7']);
      assert.notEqual(c.candidate.alert, c.production.alert);
      assert.equal(c.direction, c.candidate.alert ? 'candidate-only' : 'production-only');
    }
    assert.doesNotMatch(sampleText, /traffic:shadow/, 'no raw case ids in the sample');
    assert.ok(new Set(sample.cases.map((c) => `${c.site}|${c.direction}`)).size >= 2, 'more than one stratum');

    // The measurement in history: aggregates only, no case-level data.
    const history = JSON.stringify(await handle.fetchHistory());
    assert.ok(!history.includes(sample.cases[0]!.caseIdHash), 'no hashed case ids in history');

    // 1. The web UI: session login, the adjudication page, the form with its CSRF token.
    const login = await app.request('/ui/login', {
      method: 'POST',
      body: new URLSearchParams({ username: 'sam.clin', password: PASSWORDS['sam.clin']!, next: '/ui/inbox' }),
    });
    assert.equal(login.status, 303);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const page = await app.request(`/ui/releases/${releaseId}/adjudication`, { headers: { cookie } });
    const html = await page.text();
    assert.equal(page.status, 200, html);
    assert.match(html, /d-001/);
    assert.match(html, /0 of 3 required/);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
    const posted = await app.request(`/ui/releases/${releaseId}/adjudications/d-001`, {
      method: 'POST',
      headers: { cookie },
      body: new URLSearchParams({
        _csrf: csrf,
        verdict: 'candidate',
        comment: 'lactate trend supports the alert',
        role: 'clinical',
      }),
    });
    const postedHtml = await posted.text();
    assert.equal(posted.status, 200, postedHtml);
    assert.match(postedHtml, /Your adjudication of d-001 was recorded \(1 of 3 required/);
    assert.match(postedHtml, /data-testid="mine">candidate</);

    // 2. The JSON API: the account re-authenticates; refusals are typed.
    const api = (body: Record<string, unknown>) =>
      app.request(`/api/releases/${releaseId}/adjudications`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const dana = {
      username: 'dana.qa',
      password: PASSWORDS['dana.qa'],
      verdict: 'candidate',
      comment: 'production missed a deteriorating patient',
    };
    const accepted = await api({ ...dana, sampleId: 'd-002' });
    assert.equal(accepted.status, 201, await accepted.clone().text());
    assert.deepEqual(((await accepted.json()) as { adjudicatedCases: number }).adjudicatedCases, 2);
    const again = await api({ ...dana, sampleId: 'd-002' });
    assert.equal(again.status, 409);
    assert.equal(((await again.json()) as { type: string }).type, 'VigilAlreadyAdjudicated');
    assert.equal((await api({ ...dana, sampleId: 'd-099' })).status, 404);
    const self = await api({ ...dana, username: 'alex.mle', password: PASSWORDS['alex.mle'], sampleId: 'd-003' });
    assert.equal(self.status, 403, 'the submitter may not adjudicate');
    assert.equal((await api({ ...dana, password: 'wrong', sampleId: 'd-003' })).status, 401);

    // 3. The Update itself closes the window (3 cases adjudicated); the release proceeds to sign-off.
    await handle.executeUpdate(adjudicateCaseUpdate, {
      args: [
        {
          sampleId: 'd-003',
          reviewer: 'sam.clin',
          printedName: 'Dr Sam Okafor',
          role: 'clinical',
          verdict: 'unclear',
          comment: 'cannot tell from the inputs',
        },
      ],
    });
    const waiting = await waitFor('AWAITING_APPROVAL', async () => {
      const s: ReleaseStatus = await handle.query(releaseStatusQuery);
      assert.equal(s.outcome, null, `ended early: ${s.reason}`);
      return s.stage === 'AWAITING_APPROVAL' && s.dossier ? s : null;
    });
    const shadow = waiting.history.find((r) => r.stage === 'SHADOW')!;
    assert.equal(shadow.decision!.verdict, 'pass', shadow.decision!.reasons.join('; '));
    assert.match(
      shadow.decision!.reasons[0]!,
      /; κ 0\.\d{4}; largest input PSI 0\.\d{4}; production judged right on 0 of 2 adjudicated disagreements \(share 0\.0000; 1 unclear excluded from the denominator\) \(simulated traffic\)$/,
    );
    assert.deepEqual(
      waiting.shadowAdjudication!.tally && [
        waiting.shadowAdjudication!.tally.adjudicatedCases,
        waiting.shadowAdjudication!.tally.candidateRight,
        waiting.shadowAdjudication!.tally.unclear,
      ],
      [3, 2, 1],
    );
    const kinds = await Promise.all(
      shadow.artifacts.map(
        async (r) =>
          (JSON.parse((await h.evidence.getBytes(r.key, r.sha256)).toString('utf8')) as { kind: string }).kind,
      ),
    );
    // The measurement and its sample, the shadow route set and removed on the gateway, then the adjudications.
    assert.deepEqual(kinds, [
      'vigil.shadow/v1',
      'vigil.shadow-disagreements/v1',
      'vigil.routes/v1',
      'vigil.routes/v1',
      'vigil.adjudication/v1',
      'vigil.adjudication/v1',
      'vigil.adjudication/v1',
      'vigil.shadow-adjudication/v1',
    ]);
    const measured = (
      JSON.parse(
        (await h.evidence.getBytes(shadow.artifacts[0]!.key, shadow.artifacts[0]!.sha256)).toString('utf8'),
      ) as { measurement: ShadowMeasurement }
    ).measurement;
    assert.ok(measured.kappa !== null && measured.kappa! > 0.3);
    assert.ok(measured.correlation!.pearson! > 0.5 && measured.correlation!.spearman! > 0.5);
    assert.equal(measured.latencyMs!.candidate.calls, policy.shadow.cases);
    assert.ok(
      measured.latencyMs!.candidate.p50 > 0 && measured.latencyMs!.candidate.p99 >= measured.latencyMs!.candidate.p50,
    );
    assert.deepEqual(measured.errors, { candidate: 0, production: 0, cases: 0 });
    assert.equal(measured.drift!.features.length, 8);
    assert.ok(measured.drift!.site !== null && measured.drift!.site.df === 3);

    await handle.executeUpdate(approveReleaseUpdate, { args: [sign('qa', waiting.dossier!.sha256)] });
    await handle.executeUpdate(approveReleaseUpdate, { args: [sign('clinical', waiting.dossier!.sha256)] });
    const result = await handle.result();
    assert.equal(result.outcome, 'RELEASED', result.reason);

    // The audit recomputes the SHADOW decision from the tally recorded by closeShadowReview.
    let out = '';
    const code = await cli(['audit', releaseId, '--json'], {
      env: h.env,
      stdout: (t) => (out += t),
      stderr: () => undefined,
      readStdin: async () => '',
    });
    const report = JSON.parse(out) as AuditReport;
    assert.deepEqual(
      report.checks.filter((c) => !c.passed).map((c) => `${c.id}: ${JSON.stringify(c.findings)}`),
      [],
    );
    assert.equal(code, 0);
    const shadowCheck = report.decisions.find((d) => d.stage === 'SHADOW')!;
    assert.ok(shadowCheck.match && /closeShadowReview/.test(shadowCheck.event), shadowCheck.event);
  });
});
