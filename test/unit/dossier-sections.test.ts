/**
 * The dossier's reviewer sections from hand-made evidence: shadow findings with plots and adjudicated
 * disagreements, the simulated-traffic notice, open risks; loosely typed evidence never breaks the page.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReleaseRequestSchema } from '../../src/domain';
import type { DossierData } from '../../src/dossier';
import { barChart, measurementSources, openRisks, shadowFindings } from '../../src/dossier/review-sections';
import { validReleaseRequest } from '../support/fixtures';

const AT = '2026-11-26T09:00:00.000Z';

function data(over: Partial<DossierData> = {}): DossierData {
  const base = ReleaseRequestSchema.parse(validReleaseRequest());
  const request = ReleaseRequestSchema.parse({
    ...validReleaseRequest(),
    policy: {
      ...base.policy,
      shadow: {
        ...base.policy.shadow,
        maxPsi: 0.2,
        adjudication: { sampleSize: 4, minAdjudicated: 2, maxCandidateWrongShare: 0.5, timeoutSeconds: 60 },
      },
    },
  });
  return {
    input: {
      releaseId: 'r1',
      request,
      policySha256: 'a'.repeat(64),
      history: [
        {
          stage: 'SHADOW',
          step: null,
          startedAt: AT,
          endedAt: AT,
          decision: { verdict: 'pass', reasons: ['agreement 0.950 ≥ 0.9'] },
          artifacts: [],
          chainEntry: null,
        },
      ],
      chainHead: null,
      at: AT,
    },
    modelCard: null,
    manifests: [],
    changeSummary: null,
    snapshot: null,
    offline: { report: null, html: null },
    shadow: {
      source: 'simulated',
      window: 'shadow:abc',
      threshold: 0.5,
      measurement: {
        cases: 400,
        agreement: 0.95,
        kappa: 0.81,
        drift: {
          reference: { dataset: 'eval', sha256: 'b'.repeat(64), rows: 100 },
          features: [
            { feature: 'lactate', psi: 0.31, ks: 0.2, ksPValue: 0.01, n: 400 },
            { feature: 'heart_rate', psi: 0.02, ks: 0.05, ksPValue: 0.6, n: 400 },
          ],
          site: null,
        },
      },
      agreementTable: { both: 50, neither: 330, candidateOnly: 12, productionOnly: 8 },
    },
    disagreements: null,
    adjudication: {
      rule: 'majority per case',
      tally: {
        sampled: 4,
        adjudicatedCases: 2,
        adjudications: 2,
        candidateRight: 1,
        productionRight: 1,
        unclear: 0,
        deadline: AT,
      },
      records: [
        {
          sampleId: 's1',
          site: 'site-a',
          direction: 'candidateOnly',
          reviewer: 'sam.clin',
          printedName: 'Dr Sam <Okafor>',
          role: 'clinical',
          verdict: 'candidate',
          comment: 'lactate rising',
          at: AT,
        },
      ],
    },
    sources: [{ stage: 'SHADOW', kind: 'vigil.shadow/v1', source: 'simulated' }],
    attestations: [],
    evidence: [],
    ...over,
  };
}

describe('dossier reviewer sections', () => {
  it('shadow findings: figures, the drift bound, and each adjudication with its reviewer, escaped', () => {
    const html = shadowFindings(data());
    assert.match(html, /Shadow gate: <strong class="pass">pass<\/strong>/);
    assert.match(html, /window <code>shadow:abc<\/code>/);
    assert.equal((html.match(/<svg /g) ?? []).length, 2, 'agreement and drift plots');
    assert.match(html, /aria-label="Input drift[^"]*lactate 0\.31[^"]*max PSI 0\.2"/);
    assert.match(html, /only candidate alerts 12/);
    // share where production was right = 1 / (1 + 1)
    assert.match(html, /Share where production was right: 0\.500 \(maximum 0\.5\)/);
    assert.match(html, /Dr Sam &#60;Okafor&#62; \(clinical\)/);
  });

  it('states that simulated traffic measured the shadow, and lists it among the open risks', () => {
    assert.match(measurementSources(data()), /Simulated traffic\.[\s\S]*SHADOW/);
    assert.match(
      measurementSources(data({ sources: [{ stage: 'SHADOW', kind: 'k', source: 'gateway-telemetry' }] })),
      /gateway's telemetry of real traffic/,
    );
    const risks = openRisks(data());
    assert.match(risks, /simulated traffic/);
    assert.match(risks, /No valid model card/);
  });

  it('a shadow record with fields missing or shaped differently renders without throwing', () => {
    const odd = data({
      shadow: { measurement: { cases: 0, agreement: null }, window: { start: AT, end: AT } } as never,
      adjudication: { rule: '', tally: data().adjudication!.tally, records: [{ sampleId: 's9' } as never] },
    });
    assert.match(shadowFindings(odd), /Shadow findings/);
  });

  it('bar lengths are proportional to the values', () => {
    const svg = barChart({
      title: 't',
      bars: [
        { label: 'a', value: 2 },
        { label: 'b', value: 1 },
      ],
    });
    const widths = [...svg.matchAll(/<rect x="170" y="\d+" width="([\d.]+)"/g)].map((m) => Number(m[1]));
    assert.equal(widths.length, 2);
    assert.ok(Math.abs(widths[0]! / widths[1]! - 2) < 1e-6, `${widths}`);
  });
});
