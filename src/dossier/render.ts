/**
 * The release dossier as one self-contained HTML page: no scripts, no external assets, every value from
 * the input escaped. Pure and deterministic (same data → same bytes), so it is stored as evidence.
 */
import { labelSourceOf, SINGLE_SOURCE_LABEL_KINDS } from '../domain/dataset-manifest';
import { escapeXml as esc } from '../report/svg';
import type { DossierData, MetricView } from './collect';

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;font-size:14px;line-height:1.45;color:#111;margin:0 auto;max-width:1200px;padding:1.5em}
h1{font-size:1.7em;margin:.2em 0}h2{font-size:1.3em;margin:1.6em 0 .4em;border-bottom:2px solid #1f4e9c;padding-bottom:.15em}
table{border-collapse:collapse;margin:.4em 0;font-size:.92em}th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f2f2f2}code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.88em;word-break:break-all}
dl{display:grid;grid-template-columns:max-content auto;gap:.15em 1em}dt{font-weight:600}dd{margin:0}
.summary{background:#f5f8fd;border:1px solid #c9d6ee;padding:.6em 1em;border-radius:4px}
.pass{color:#0a6b2d}.fail{color:#a4141c}.muted{color:#555}.class{font-weight:700}
@media print{h2{break-after:avoid}table,figure{break-inside:avoid}}
`;

const fmt = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x) ? 'undefined' : x.toFixed(3);
const metric = (m: MetricView | undefined) =>
  !m || m.estimate === null
    ? 'undefined'
    : `${fmt(m.estimate)}${m.interval ? ` [${fmt(m.interval.lower)}, ${fmt(m.interval.upper)}]` : ''}`;
const CLASS_TEXT = {
  withinPlan: 'within the predetermined change control plan',
  substantial: 'substantial (outside the change control plan)',
} as const;
const DIMENSION_TEXT: Record<string, string> = {
  code: 'Code',
  data: 'Training data',
  model: 'Model',
  labelPolicy: 'Label policy',
  featureSchema: 'Feature schema',
};

function table(head: string[], rows: string[][], cls = ''): string {
  return [
    `<table${cls ? ` class="${cls}"` : ''}>`,
    `<thead><tr>${head.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead>`,
    `<tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n')}</tbody>`,
    '</table>',
  ].join('\n');
}

function decisionOf(d: DossierData, stage: string) {
  return d.input.history.find((h) => h.stage === stage && h.decision)?.decision ?? null;
}

function executiveSummary(d: DossierData): string {
  const r = d.input.request;
  const cs = d.changeSummary;
  const changed = cs
    ? cs.dimensions.filter((x) => x.changed).map((x) => DIMENSION_TEXT[x.dimension] ?? x.dimension)
    : [];
  const offline = decisionOf(d, 'OFFLINE_EVAL');
  const shadow = decisionOf(d, 'SHADOW');
  const criteria = d.offline.report?.report.criteria ?? [];
  const passing = criteria.filter((c) => c.status === 'pass').length;
  const card = d.modelCard && !('error' in d.modelCard) ? d.modelCard : null;
  const steps = r.policy.canary.steps.map((s) => `${s.percent}%`).join(' then ');
  return [
    '<section class="summary" aria-label="Executive summary">',
    '<h2 id="summary">Executive summary</h2>',
    `<p><strong>What changed.</strong> ${esc(r.modelName)} version ${esc(r.candidate.version)} is proposed to replace version ${esc(r.incumbent.version)}. ` +
      (cs
        ? `Compared with the model in use, these changed: ${esc(changed.join(', ') || 'nothing')}. The change is <span class="class">${esc(CLASS_TEXT[cs.changeClass])}</span>, so it needs sign-off by ${esc(cs.requiredRoles.join(', '))}.`
        : 'No change summary was recorded.') +
      '</p>',
    `<p><strong>Why.</strong> ${esc(r.reason)} <span class="muted">(submitted by ${esc(r.submittedBy)})</span></p>`,
    `<p><strong>How it was validated.</strong> Every referenced file was re-hashed and its provenance checked before anything ran. ` +
      (criteria.length
        ? `On ${d.offline.report!.report.n} locked evaluation cases, ${passing} of ${criteria.length} acceptance criteria registered on ${esc(r.policy.registeredAt)} (before training) were met. `
        : '') +
      (offline ? `Offline gate: ${esc(offline.verdict)} — ${esc(offline.reasons.join('; '))}. ` : '') +
      (shadow ? `Shadow run: ${esc(shadow.verdict)} — ${esc(shadow.reasons.join('; '))}.` : '') +
      '</p>',
    `<p><strong>Residual risk.</strong> ${card ? esc(card.limitations.join(' ')) : 'No model card was provided.'} ` +
      `After approval the candidate sees ${esc(steps)} of patients first; it is rolled back if sensitivity drops by more than ${esc(String(r.policy.canary.guardrails.maxSensitivityDrop))} or the alert rate rises more than ${esc(String(r.policy.canary.guardrails.maxAlertRateRatio))}×, and live performance is then monitored for ${r.policy.monitoring.intervals} intervals.</p>`,
    `<p><strong>How to reverse it.</strong> Routing returns every patient to version ${esc(r.incumbent.version)} (kept running as the hot fallback) automatically when a guardrail trips, and on any failure after traffic moved; the route change is itself recorded as evidence.</p>`,
    '</section>',
  ].join('\n');
}

function intendedUse(d: DossierData): string {
  const out = ['<h2 id="intended-use">Intended use, population and limitations</h2>'];
  if (!d.modelCard) out.push('<p class="fail">No model card was referenced by the release request.</p>');
  else if ('error' in d.modelCard) out.push(`<p class="fail">The model card is invalid: ${esc(d.modelCard.error)}</p>`);
  else {
    const c = d.modelCard;
    out.push(
      '<dl>',
      `<dt>Intended use</dt><dd>${esc(c.intendedUse)}</dd>`,
      `<dt>Population</dt><dd>${esc(c.population)}</dd>`,
      ...(c.users ? [`<dt>Users</dt><dd>${esc(c.users)}</dd>`] : []),
      `<dt>Limitations</dt><dd><ul>${c.limitations.map((l) => `<li>${esc(l)}</li>`).join('')}</ul></dd>`,
      ...(c.contraindications
        ? [`<dt>Do not use</dt><dd><ul>${c.contraindications.map((l) => `<li>${esc(l)}</li>`).join('')}</ul></dd>`]
        : []),
      '</dl>',
    );
  }
  return out.join('\n');
}

function dataManifests(d: DossierData): string {
  const rows = d.manifests.map(({ dataset, manifest }) => {
    if (!manifest)
      return [
        esc(dataset.role),
        esc(dataset.name),
        '<span class="fail">no manifest</span>',
        '',
        '',
        '',
        `<code>${esc(dataset.artifact.sha256)}</code>`,
      ];
    const steps = manifest.steps ?? [];
    const labelling = steps.find((s) => s.kind === 'labelling');
    const filtering = steps.find((s) => s.kind === 'filtering');
    const kappa =
      labelling?.kind === 'labelling' && labelling.interRaterAgreement
        ? `${labelling.interRaterAgreement.method} κ = ${fmt(labelling.interRaterAgreement.kappa)}`
        : '—';
    // Single-source labels say so: a reviewer must not read a missing κ as a measured one.
    const source = labelSourceOf(manifest);
    const labels = source
      ? `${esc(source.kind)}${SINGLE_SOURCE_LABEL_KINDS.includes(source.kind) ? ' (single source, no inter-rater agreement)' : ''}: ${esc(source.description)}; `
      : '';
    const exclusions =
      filtering?.kind === 'filtering'
        ? (filtering.exclusionRules ?? [])
            .map((e) => `${esc(e.description ?? e.id)} (−${e.removedCount ?? '?'})`)
            .join('<br>')
        : '—';
    const sources = (manifest.sources ?? [])
      .map(
        (s) =>
          `${esc(s.system ?? s.id)} ${esc(s.collectionWindow?.start ?? '?')} – ${esc(s.collectionWindow?.end ?? '?')}`,
      )
      .join('<br>');
    return [
      esc(dataset.role),
      `${esc(manifest.dataset.name)} ${esc(manifest.dataset.version)}`,
      `${manifest.rows.count} rows; Merkle root <code>${esc(manifest.rows.merkle.root.slice(0, 16))}…</code>`,
      sources,
      `${labels}${labelling?.kind === 'labelling' ? esc(labelling.labelPolicyVersion ?? '?') : '—'}; ${esc(kappa)}`,
      exclusions,
      `<code>${esc(manifest.file.sha256)}</code>`,
    ];
  });
  return [
    '<h2 id="data">Data</h2>',
    table(
      [
        'Role',
        'Dataset',
        'Rows',
        'Sources and collection window',
        'Label policy; agreement',
        'Exclusions',
        'File sha256',
      ],
      rows,
      'data-manifests',
    ),
  ].join('\n');
}

function changeSummary(d: DossierData): string {
  const cs = d.changeSummary;
  if (!cs) return '<h2 id="change">Change summary</h2><p class="fail">No change summary was recorded at SNAPSHOT.</p>';
  return [
    '<h2 id="change">Change summary and class</h2>',
    `<p>Change class: <span class="class">${esc(CLASS_TEXT[cs.changeClass])}</span>; required sign-offs: ${esc(cs.requiredRoles.join(', '))}.${cs.incumbent.provenanceRecorded ? '' : ' <span class="muted">The incumbent\'s provenance was not recorded, so only the model could be compared; the rest counts as changed.</span>'}</p>`,
    table(
      ['What', 'Changed', 'Incumbent', 'Candidate'],
      cs.dimensions.map((x) => [
        esc(DIMENSION_TEXT[x.dimension] ?? x.dimension),
        x.changed ? '<strong>yes</strong>' : 'no',
        `<code>${esc(x.from ?? 'unknown')}</code>`,
        `<code>${esc(x.to ?? 'unknown')}</code>${x.note ? `<br><span class="muted">${esc(x.note)}</span>` : ''}`,
      ]),
      'change-summary',
    ),
  ].join('\n');
}

function rollbackPlan(d: DossierData): string {
  const r = d.input.request;
  const overall = d.offline.report?.report.slices.find((s) => s.slice === 'overall');
  const validated = overall
    ? `On the same ${overall.n} locked cases it scored AUC ${metric(overall.incumbent.auc)}, sensitivity ${metric(overall.incumbent.sensitivity)}, specificity ${metric(overall.incumbent.specificity)} at threshold ${r.policy.operatingThreshold}.`
    : 'Its validated metrics were not recorded in this release.';
  return [
    '<h2 id="rollback">Rollback plan</h2>',
    '<dl>',
    `<dt>Hot fallback</dt><dd>${esc(r.modelName)} ${esc(r.incumbent.version)} — sha256 <code>${esc(r.incumbent.artifact.sha256)}</code>; it stays deployed and keeps serving every patient outside the canary arm.</dd>`,
    `<dt>Validated state</dt><dd>${esc(validated)}</dd>`,
    '<dt>Trigger</dt><dd>Any canary or monitoring guardrail failure or inconclusive interval, or any error after traffic moved.</dd>',
    `<dt>Action</dt><dd>The route table for ${esc(r.modelName)} is set to production = ${esc(r.incumbent.version)}, canary = none; the change is recorded as evidence with its reason.</dd>`,
    '</dl>',
  ].join('\n');
}

function signatures(d: DossierData): string {
  const sigs = d.input.signatures ?? [];
  const required = d.changeSummary?.requiredRoles ?? d.input.request.policy.approval.requiredRoles;
  const signed = new Set(sigs.filter((s) => !s.withdrawal).map((s) => s.role));
  const pending = required.filter((r) => !signed.has(r as never));
  return [
    '<h2 id="signatures">Sign-offs</h2>',
    '<p class="muted">Each electronic signature shows the printed name of the signer, the date and time of signing and its meaning (21 CFR 11.50), and is bound to the dossier digest the signer reviewed.</p>',
    sigs.length
      ? table(
          ['Printed name', 'Signer', 'Role', 'Decision', 'Meaning', 'Signed at (UTC)', 'Reason', 'Dossier reviewed'],
          sigs.map((s) => [
            `<strong>${esc(s.printedName)}</strong>`,
            esc(s.signer),
            esc(s.role),
            s.withdrawal
              ? `<span class="fail">${esc(s.decision)}, withdrawn ${esc(s.withdrawal.at)}: ${esc(s.withdrawal.reason)}</span>`
              : `<span class="${s.decision === 'approve' ? 'pass' : 'fail'}">${esc(s.decision)}</span>`,
            esc(s.meaning),
            esc(s.at),
            esc(s.reason),
            `<code>${esc(s.dossierSha256)}</code>`,
          ]),
          'signatures',
        )
      : '<p>No signatures yet.</p>',
    pending.length ? `<p>Pending: ${esc(pending.join(', '))}.</p>` : '',
  ].join('\n');
}

function evidenceIndex(d: DossierData): string {
  return [
    '<h2 id="evidence">Evidence index</h2>',
    '<p class="muted">Every object below is write-once in the evidence store and named by the SHA-256 of its bytes. The JSON index of this dossier lists the same entries; its digest is what approvers sign.</p>',
    table(
      ['Source', 'What', 'Key', 'sha256'],
      d.evidence.map((e) => [
        esc(e.source),
        esc(e.label),
        `<code>${esc(e.key)}</code>`,
        `<code>${esc(e.sha256)}</code>`,
      ]),
      'evidence-index',
    ),
    d.attestations.length
      ? table(
          ['Attestation', 'Signing key ids', 'Envelope'],
          d.attestations.map((a) => [
            esc(a.predicateType),
            a.keyIds.map((k) => `<code>${esc(k)}</code>`).join('<br>'),
            `<code>${esc(a.ref.key)}</code>`,
          ]),
          'attestations',
        )
      : '',
  ].join('\n');
}

export function renderDossierHtml(d: DossierData): string {
  const r = d.input.request;
  const env = d.snapshot?.environment;
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${esc(`Release dossier: ${r.modelName} ${r.candidate.version}`)}</title>`,
    `<style>${CSS}</style>`,
    '</head><body>',
    '<header>',
    `<h1>Release dossier: ${esc(r.modelName)} ${esc(r.candidate.version)}</h1>`,
    '<dl>',
    `<dt>Release</dt><dd><code>${esc(d.input.releaseId)}</code></dd>`,
    `<dt>Generated</dt><dd>${esc(d.input.at)}</dd>`,
    `<dt>Policy</dt><dd>${esc(r.policy.id)} ${esc(r.policy.version)}; sha256 <code>${esc(d.input.policySha256)}</code></dd>`,
    `<dt>Code commit</dt><dd><code>${esc(r.codeCommit)}</code></dd>`,
    ...(env ? [`<dt>Environment</dt><dd><code>${esc(JSON.stringify(env))}</code></dd>`] : []),
    `<dt>Evidence chain head</dt><dd>${d.input.chainHead ? `#${d.input.chainHead.seq} <code>${esc(d.input.chainHead.digest)}</code>` : 'none'}</dd>`,
    '</dl>',
    '</header>',
    '<main>',
    executiveSummary(d),
    intendedUse(d),
    dataManifests(d),
    '<h2 id="evaluation">Evaluation report</h2>',
    d.offline.html ?? '<p class="fail">No evaluation report was recorded.</p>',
    changeSummary(d),
    rollbackPlan(d),
    signatures(d),
    evidenceIndex(d),
    '</main>',
    '</body></html>',
    '',
  ].join('\n');
}
