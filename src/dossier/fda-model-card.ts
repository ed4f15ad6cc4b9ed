/**
 * The release's model card in the structure of FDA's January 2025 draft guidance on AI-enabled device software
 * functions, filled from the release's own evidence (what collectDossier read back and re-hashed), and its HTML.
 * Pure: the same dossier data gives the same card and the same bytes.
 */
import { FDA_MODEL_CARD_KIND, FdaModelCardSchema, type FdaModelCard } from '../domain/fda-model-card';
import { interfaceForVersion } from '../domain/model-interface';
import { escapeXml as esc } from '../report/svg';
import type { DossierData, MetricView } from './collect';

const SUBGROUP_METRICS = ['auc', 'sensitivity', 'specificity', 'ppv', 'npv'] as const;

function metricOf(m: MetricView | undefined) {
  return {
    estimate: m?.estimate ?? null,
    lower: m?.interval?.lower ?? null,
    upper: m?.interval?.upper ?? null,
  };
}

function metrics(record: Record<string, MetricView>) {
  return Object.fromEntries(SUBGROUP_METRICS.filter((k) => record[k]).map((k) => [k, metricOf(record[k])]));
}

type LooseStep = {
  kind: string;
  labelPolicyVersion?: string;
  labellerQualification?: string;
  adjudicationRule?: string;
  labelSource?: { kind: string; description?: string };
  interRaterAgreement?: { method: string; kappa: number };
  exclusionRules?: { id: string; description?: string; removedCount?: number }[];
};

/** How the labels were made, in words, from the manifest's labelling step. */
export function labelMethodOf(steps: LooseStep[]): string | null {
  const l = steps.find((s) => s.kind === 'labelling');
  if (!l) return null;
  const parts = [
    l.labelSource ? `${l.labelSource.kind}${l.labelSource.description ? `: ${l.labelSource.description}` : ''}` : null,
    l.labellerQualification ? `labellers: ${l.labellerQualification}` : null,
    l.adjudicationRule ? `adjudication: ${l.adjudicationRule}` : null,
  ].filter((x): x is string => x !== null);
  return parts.length ? parts.join('; ') : null;
}

/** The model card of the release, validated against its schema (a bug here fails loudly, never a half card). */
export function buildFdaModelCard(d: DossierData): FdaModelCard {
  const r = d.input.request;
  const card = d.modelCard && !('error' in d.modelCard) ? d.modelCard : null;
  const features = card ? (interfaceForVersion(card, r.candidate.version).features ?? null) : null;
  const report = d.offline.report?.report ?? null;
  const p = r.policy;
  const sh = d.shadow;
  const withinPlan = p.changeControl?.withinPlan.allowed ?? null;
  const filledFrom = d.evidence
    .filter((e) => e.source !== 'AWAITING_APPROVAL' && !e.label.startsWith('attestation'))
    .map((e) => ({ what: `${e.source}: ${e.label}`, key: e.key, sha256: e.sha256 }));
  const result: FdaModelCard = {
    kind: FDA_MODEL_CARD_KIND,
    releaseId: d.input.releaseId,
    generatedAt: d.input.at,
    modelDescription: {
      name: r.modelName,
      version: r.candidate.version,
      artifactSha256: r.candidate.artifact.sha256,
      format: r.candidate.format ?? 'vigil.logistic/v1',
      replaces: { version: r.incumbent.version, artifactSha256: r.incumbent.artifact.sha256 },
      codeCommit: r.codeCommit,
      changed: d.changeSummary ? d.changeSummary.dimensions.filter((x) => x.changed).map((x) => x.dimension) : null,
      changeClass: d.changeSummary?.changeClass ?? null,
    },
    inputsOutputs: {
      inputs: features,
      output: 'a risk score in [0, 1]; an alert is raised when the score is at or above the operating threshold',
      operatingThreshold: p.operatingThreshold,
      operatingPoint:
        p.operatingPoint.kind === 'fixed'
          ? 'fixed threshold from the release policy'
          : `highest specificity at sensitivity ≥ ${p.operatingPoint.minSensitivity}, chosen on the tuning split and locked before evaluation`,
    },
    intendedUse: {
      intendedUse: card?.intendedUse ?? null,
      population: card?.population ?? null,
      users: card?.users ?? null,
      contraindications: card?.contraindications ?? [],
    },
    data: d.manifests.map(({ dataset, manifest }) => {
      const steps = (manifest?.steps ?? []) as LooseStep[];
      const labelling = steps.find((s) => s.kind === 'labelling');
      const filtering = steps.find((s) => s.kind === 'filtering');
      return {
        role: dataset.role,
        name: dataset.name,
        version: manifest?.dataset.version ?? null,
        rows: manifest?.rows.count ?? null,
        sources: (manifest?.sources ?? []).map(
          (s) =>
            `${s.system ?? s.id}${s.collectionWindow ? ` ${s.collectionWindow.start ?? '?'} – ${s.collectionWindow.end ?? '?'}` : ''}`,
        ),
        labelMethod: labelMethodOf(steps),
        labelPolicyVersion: labelling?.labelPolicyVersion ?? null,
        agreement: labelling?.interRaterAgreement
          ? { method: labelling.interRaterAgreement.method, kappa: labelling.interRaterAgreement.kappa }
          : null,
        exclusions: (filtering?.exclusionRules ?? []).map((e) => ({
          rule: e.description ?? e.id,
          removed: e.removedCount ?? null,
        })),
        fileSha256: dataset.artifact.sha256,
        manifestSha256: dataset.manifest?.sha256 ?? null,
      };
    }),
    performance: {
      evaluationCases: report?.n ?? null,
      criteriaRegisteredAt: p.registeredAt,
      criteria: (report?.criteria ?? []).map((c) => ({ id: c.id, status: c.status, reason: c.reason })),
      subgroups: (report?.slices ?? []).map((s) => ({
        subgroup: s.slice,
        n: s.n,
        positives: s.positives,
        candidate: metrics(s.candidate),
        incumbent: metrics(s.incumbent),
      })),
      shadow: sh
        ? {
            source: sh.source ?? null,
            cases: sh.measurement.cases,
            agreement: sh.measurement.agreement,
            kappa: sh.measurement.kappa ?? null,
          }
        : null,
    },
    limitations: card?.limitations ?? [],
    monitoringAndUpdates: {
      shadow: `mirrored production traffic for ${p.shadow.durationSeconds} s (at least ${p.shadow.cases} cases); agreement ≥ ${p.shadow.minAgreement}${p.shadow.minKappa !== undefined ? `, κ ≥ ${p.shadow.minKappa}` : ''}${p.shadow.maxPsi !== undefined ? `, input PSI ≤ ${p.shadow.maxPsi}` : ''}`,
      canary: p.canary.steps.map(
        (s, i) =>
          `step ${i + 1}: ${s.percent}% of patients for ${s.bakeSeconds} s (≥ ${s.cases} cases)${s.pause ? ', then held for a person' : ''}`,
      ),
      guardrails: guardrailText(p.canary.guardrails),
      monitoring: `${p.monitoring.intervals} intervals of ${p.monitoring.intervalSeconds} s after release; ${guardrailText(p.monitoring.guardrails)}${p.monitoring.drift ? `; drift: ${p.monitoring.drift.onDrift}` : ''}`,
      rollback: `routing returns every patient to ${r.incumbent.version} (kept deployed as the hot fallback) when a guardrail trips`,
      changeControlPlan: withinPlan
        ? `changes to ${withinPlan.join(', ')} stay within the predetermined change control plan (signed by ${p.changeControl!.requiredRoles.withinPlan.join(', ')}); anything else is substantial (signed by ${p.changeControl!.requiredRoles.substantial.join(', ')})`
        : 'no predetermined change control plan: every change is substantial',
    },
    filledFrom,
  };
  return FdaModelCardSchema.parse(result);
}

/** "rolled back if sensitivity falls by more than x or the alert rate rises above y×". */
export function guardrailText(g: { maxSensitivityDrop: number; maxAlertRateRatio: number; minPositives: number }) {
  return `rolled back if sensitivity falls by more than ${g.maxSensitivityDrop} or the alert rate exceeds ${g.maxAlertRateRatio}× the comparator's; fewer than ${g.minPositives} labelled positives in an interval is inconclusive`;
}

const fmt = (x: number | null) => (x === null ? '—' : x.toFixed(3));
const ci = (m: { estimate: number | null; lower: number | null; upper: number | null } | undefined) =>
  !m || m.estimate === null
    ? '—'
    : `${fmt(m.estimate)}${m.lower !== null ? ` [${fmt(m.lower)}, ${fmt(m.upper)}]` : ''}`;
const list = (xs: string[]) => (xs.length ? `<ul>${xs.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : '—');

/** The card as an HTML fragment (a `<section>`), used in the dossier and in the card's own page. */
export function renderFdaModelCardSection(c: FdaModelCard): string {
  const m = c.modelDescription;
  const dl = (rows: [string, string][]) =>
    `<dl>${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>`;
  return [
    '<section id="model-card" data-section="model-card" aria-labelledby="model-card-h">',
    '<h2 id="model-card-h">Model card</h2>',
    '<p class="muted">Structure of the model card in FDA\'s draft guidance on AI-enabled device software functions (January 2025); every value below comes from this release\'s evidence.</p>',
    '<h3>Model description</h3>',
    dl([
      ['Model', `${esc(m.name)} ${esc(m.version)} (${esc(m.format)}), sha256 <code>${esc(m.artifactSha256)}</code>`],
      ['Replaces', `${esc(m.replaces.version)}, sha256 <code>${esc(m.replaces.artifactSha256)}</code>`],
      ['Code commit', `<code>${esc(m.codeCommit)}</code>`],
      ['Changed', m.changed ? esc(m.changed.join(', ') || 'nothing') : 'not recorded'],
      ['Change class', esc(m.changeClass ?? 'not recorded')],
    ]),
    '<h3>Inputs and outputs</h3>',
    dl([
      ['Inputs', c.inputsOutputs.inputs ? esc(c.inputsOutputs.inputs.join(', ')) : 'not named by the model card'],
      ['Output', esc(c.inputsOutputs.output)],
      ['Operating threshold', `${c.inputsOutputs.operatingThreshold} (${esc(c.inputsOutputs.operatingPoint)})`],
    ]),
    '<h3>Intended use</h3>',
    dl([
      ['Intended use', esc(c.intendedUse.intendedUse ?? 'not stated')],
      ['Population', esc(c.intendedUse.population ?? 'not stated')],
      ['Users', esc(c.intendedUse.users ?? 'not stated')],
      ['Contraindications', list(c.intendedUse.contraindications)],
    ]),
    '<h3>Development and test data</h3>',
    `<div class="wide"><table class="model-card-data"><thead><tr>${['Role', 'Dataset', 'Rows', 'Sources', 'Labels', 'Agreement', 'Exclusions'].map((h) => `<th scope="col">${h}</th>`).join('')}</tr></thead><tbody>`,
    ...c.data.map(
      (x) =>
        `<tr><td>${esc(x.role)}</td><td>${esc(x.name)} ${esc(x.version ?? '')}</td><td>${x.rows ?? '—'}</td><td>${list(x.sources)}</td><td>${esc(x.labelMethod ?? '—')}${x.labelPolicyVersion ? `<br>policy ${esc(x.labelPolicyVersion)}` : ''}</td><td>${x.agreement ? `${esc(x.agreement.method)} κ = ${x.agreement.kappa.toFixed(3)}` : 'not measured'}</td><td>${list(x.exclusions.map((e) => `${e.rule} (−${e.removed ?? '?'})`))}</td></tr>`,
    ),
    '</tbody></table></div>',
    '<h3>Performance by subgroup</h3>',
    `<p>${c.performance.evaluationCases ?? 'No'} locked evaluation cases; criteria registered ${esc(c.performance.criteriaRegisteredAt)}: ${esc(c.performance.criteria.map((x) => `${x.id} ${x.status}`).join('; ') || 'none recorded')}.</p>`,
    `<div class="wide"><table class="model-card-subgroups"><thead><tr><th scope="col">Subgroup</th><th scope="col">n (positives)</th>${SUBGROUP_METRICS.map((k) => `<th scope="col">${k} candidate</th><th scope="col">${k} incumbent</th>`).join('')}</tr></thead><tbody>`,
    ...c.performance.subgroups.map(
      (s) =>
        `<tr><th scope="row">${esc(s.subgroup)}</th><td>${s.n} (${s.positives})</td>${SUBGROUP_METRICS.map((k) => `<td>${ci(s.candidate[k])}</td><td>${ci(s.incumbent[k])}</td>`).join('')}</tr>`,
    ),
    '</tbody></table></div>',
    c.performance.shadow
      ? `<p>Shadow (${esc(c.performance.shadow.source ?? 'source not recorded')}): ${c.performance.shadow.cases} cases, agreement ${fmt(c.performance.shadow.agreement)}, κ ${fmt(c.performance.shadow.kappa)}.</p>`
      : '<p>No shadow measurement yet.</p>',
    '<h3>Limitations</h3>',
    list(c.limitations),
    '<h3>Monitoring and update plan</h3>',
    dl([
      ['Shadow', esc(c.monitoringAndUpdates.shadow)],
      ['Canary', list(c.monitoringAndUpdates.canary)],
      ['Guardrails', esc(c.monitoringAndUpdates.guardrails)],
      ['Monitoring', esc(c.monitoringAndUpdates.monitoring)],
      ['Rollback', esc(c.monitoringAndUpdates.rollback)],
      ['Change control plan', esc(c.monitoringAndUpdates.changeControlPlan)],
    ]),
    '</section>',
  ].join('\n');
}

/** The card as its own self-contained page (stored beside the JSON). */
export function renderFdaModelCardHtml(c: FdaModelCard, css: string): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${esc(`Model card: ${c.modelDescription.name} ${c.modelDescription.version}`)}</title>`,
    `<style>${css}</style>`,
    '</head><body><div class="dossier">',
    `<h1>Model card: ${esc(c.modelDescription.name)} ${esc(c.modelDescription.version)}</h1>`,
    `<p class="muted">Release <code>${esc(c.releaseId)}</code>, generated ${esc(c.generatedAt)}.</p>`,
    renderFdaModelCardSection(c),
    '</div></body></html>',
    '',
  ].join('\n');
}
