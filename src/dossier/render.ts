/**
 * The release dossier as one self-contained HTML page: no scripts, no external assets, every value from
 * the input escaped. Pure and deterministic (same data → same bytes), so it is stored as evidence.
 */
import { labelSourceOf, SINGLE_SOURCE_LABEL_KINDS } from '../domain/dataset-manifest';
import { escapeXml as esc } from '../report/svg';
import { formatLocalAndUtc } from '../report/time';
import type { DossierData, MetricView } from './collect';
import { renderFdaModelCardSection } from './fda-model-card';
import type { FdaModelCard } from '../domain/fda-model-card';
import { canaryPlan, measurementSources, openRisks, shadowFindings } from './review-sections';

/**
 * Scoped under `.dossier`, so the web UI can show the stored page inside its own layout unchanged; the print
 * rules make the browser's "Save as PDF" and `vigil dossier export --pdf` give the same document.
 */
/** The standalone page's own rules (not taken into the web UI, which has its own page layout). */
const PAGE_CSS = 'body{margin:0 auto;max-width:1200px;padding:1.5em}@media print{body{max-width:none;padding:0}}';

export const DOSSIER_CSS = `
.dossier{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;font-size:14px;line-height:1.45;color:#111}
.dossier h1{font-size:1.7em;margin:.2em 0}.dossier h2{font-size:1.3em;margin:1.6em 0 .4em;border-bottom:2px solid #1f4e9c;padding-bottom:.15em}
.dossier h3{font-size:1.1em;margin:1.1em 0 .3em}
.dossier table{border-collapse:collapse;margin:.4em 0;font-size:.92em}.dossier th,.dossier td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
.dossier th{background:#f2f2f2}.dossier code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.88em;word-break:break-all}
.dossier dl{display:grid;grid-template-columns:max-content auto;gap:.15em 1em}.dossier dt{font-weight:600}.dossier dd{margin:0;overflow-wrap:anywhere}
.dossier .summary{background:#f5f8fd;border:1px solid #c9d6ee;padding:.6em 1em;border-radius:4px}
.dossier .pass{color:#0a6b2d}.dossier .fail{color:#a4141c}.dossier .muted{color:#555}.dossier .class{font-weight:700}
.dossier .warn-box{background:#fff4e0;border-left:4px solid #a15c00;padding:.6em 1em}.dossier .notice-box{background:#e9f5ec;border-left:4px solid #0a6b2d;padding:.6em 1em}
.dossier .wide{overflow-x:auto;max-width:100%}.dossier .figures{display:flex;flex-wrap:wrap;gap:1em}.dossier figure{margin:0}
.dossier svg{max-width:100%;height:auto}
@media print{.dossier{font-size:11px}.dossier h2{break-after:avoid}.dossier table,.dossier figure{break-inside:avoid}.dossier .wide{overflow:visible}}
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

/** Which clause of the change control plan admits this change (or why none does). */
function planClause(d: DossierData): string {
  const cs = d.changeSummary;
  const plan = d.input.request.policy.changeControl;
  if (!cs) return 'No change summary was recorded, so the change class is unknown.';
  const changed = cs.dimensions.filter((x) => x.changed).map((x) => x.dimension);
  if (!plan)
    return 'The release policy has no predetermined change control plan (<code>changeControl</code>), so every change is substantial.';
  const outside = changed.filter((x) => !plan.withinPlan.allowed.includes(x as never));
  const clause = `<code>changeControl.withinPlan.allowed</code> = [${esc(plan.withinPlan.allowed.join(', '))}] of policy ${esc(d.input.request.policy.id)} ${esc(d.input.request.policy.version)}`;
  return cs.changeClass === 'withinPlan'
    ? `Allowed by ${clause}: every changed dimension is listed there; signed by ${esc(plan.requiredRoles.withinPlan.join(', '))} (<code>changeControl.requiredRoles.withinPlan</code>).`
    : `Not covered by ${clause}: ${esc(outside.join(', ') || "the incumbent's provenance was not recorded")} ${outside.length === 1 ? 'is' : 'are'} outside it; signed by ${esc(plan.requiredRoles.substantial.join(', '))} (<code>changeControl.requiredRoles.substantial</code>).`;
}

function changeSummarySection(d: DossierData): string {
  const r = d.input.request;
  const cs = d.changeSummary;
  const changed = cs
    ? cs.dimensions.filter((x) => x.changed).map((x) => DIMENSION_TEXT[x.dimension] ?? x.dimension)
    : [];
  const offline = decisionOf(d, 'OFFLINE_EVAL');
  const shadow = decisionOf(d, 'SHADOW');
  return [
    '<section class="summary" id="summary" data-section="summary" aria-labelledby="summary-h">',
    '<h2 id="summary-h">Summary of the change</h2>',
    '<dl>',
    `<dt>What</dt><dd>${esc(r.modelName)} version ${esc(r.candidate.version)} is proposed to replace version ${esc(r.incumbent.version)}. ${cs ? `Changed against the model in use: ${esc(changed.join(', ') || 'nothing')}.` : 'No change summary was recorded.'}</dd>`,
    `<dt>Why</dt><dd>${esc(r.reason)}</dd>`,
    `<dt>By whom</dt><dd>${esc(r.submittedBy)} (trigger: ${esc(r.trigger.kind ?? 'api')})</dd>`,
    `<dt>Change class</dt><dd>${cs ? `<span class="class">${esc(CLASS_TEXT[cs.changeClass])}</span>; required sign-offs: ${esc(cs.requiredRoles.join(', '))}` : 'unknown'}</dd>`,
    `<dt>Control-plan clause</dt><dd>${planClause(d)}</dd>`,
    `<dt>Gates so far</dt><dd>${offline ? `Offline: <span class="${offline.verdict === 'pass' ? 'pass' : 'fail'}">${esc(offline.verdict)}</span>. ` : ''}${shadow ? `Shadow: <span class="${shadow.verdict === 'pass' ? 'pass' : 'fail'}">${esc(shadow.verdict)}</span>.` : ''}${offline || shadow ? '' : 'none decided'}</dd>`,
    '</dl>',
    cs
      ? table(
          ['What', 'Changed', 'Incumbent', 'Candidate'],
          cs.dimensions.map((x) => [
            esc(DIMENSION_TEXT[x.dimension] ?? x.dimension),
            x.changed ? '<strong>yes</strong>' : 'no',
            `<code>${esc(x.from ?? 'unknown')}</code>`,
            `<code>${esc(x.to ?? 'unknown')}</code>${x.note ? `<br><span class="muted">${esc(x.note)}</span>` : ''}`,
          ]),
          'change-summary',
        )
      : '',
    cs && !cs.incumbent.provenanceRecorded
      ? '<p class="muted">The incumbent\'s provenance was not recorded, so only the model could be compared; the rest counts as changed.</p>'
      : '',
    '</section>',
  ].join('\n');
}

function intendedUse(d: DossierData): string {
  const out = [
    '<section id="intended-use" data-section="intended-use" aria-labelledby="intended-use-h">',
    '<h2 id="intended-use-h">Intended use and contraindications</h2>',
  ];
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
  out.push('</section>');
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
    '<section id="data" data-section="data" aria-labelledby="data-h">',
    '<h2 id="data-h">Provenance of every dataset</h2>',
    '<div class="wide">',
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
    '</div>',
    '</section>',
  ].join('\n');
}

function rollbackPlan(d: DossierData): string {
  const r = d.input.request;
  const overall = d.offline.report?.report.slices.find((s) => s.slice === 'overall');
  const validated = overall
    ? `On the same ${overall.n} locked cases it scored AUC ${metric(overall.incumbent.auc)}, sensitivity ${metric(overall.incumbent.sensitivity)}, specificity ${metric(overall.incumbent.specificity)} at threshold ${r.policy.operatingThreshold}.`
    : 'Its validated metrics were not recorded in this release.';
  return [
    '<section id="rollback" data-section="rollback" aria-labelledby="rollback-h">',
    '<h2 id="rollback-h">Rollback plan</h2>',
    '<dl>',
    `<dt>Hot fallback</dt><dd>${esc(r.modelName)} ${esc(r.incumbent.version)} — sha256 <code>${esc(r.incumbent.artifact.sha256)}</code>; it stays deployed and keeps serving every patient outside the canary arm.</dd>`,
    `<dt>Validated state</dt><dd>${esc(validated)}</dd>`,
    '<dt>Trigger</dt><dd>Any canary or monitoring guardrail failure or inconclusive interval, or any error after traffic moved.</dd>',
    `<dt>Action</dt><dd>The route table for ${esc(r.modelName)} is set to production = ${esc(r.incumbent.version)}, canary = none; the change is recorded as evidence with its reason.</dd>`,
    '</dl>',
    '</section>',
  ].join('\n');
}

function signatures(d: DossierData): string {
  const sigs = d.input.signatures ?? [];
  const required = d.changeSummary?.requiredRoles ?? d.input.request.policy.approval.requiredRoles;
  const signed = new Set(sigs.filter((s) => !s.withdrawal).map((s) => s.role));
  const pending = required.filter((r) => !signed.has(r as never));
  return [
    '<section id="signatures" data-section="signatures" aria-labelledby="signatures-h">',
    '<h2 id="signatures-h">Sign-offs</h2>',
    '<p class="muted">Each electronic signature shows the printed name of the signer, the date and time of signing (in the signer\'s time zone and UTC) and its meaning (21 CFR 11.50), and is bound to the dossier digest the signer reviewed.</p>',
    sigs.length
      ? sigs
          .map(
            (s) =>
              `<div class="signature" data-role="${esc(s.role)}"><strong>${esc(s.printedName)}</strong> (<code>${esc(s.signer)}</code>, ${esc(s.role)}): ` +
              (s.withdrawal
                ? `<span class="fail">${esc(s.decision)}, withdrawn ${esc(formatLocalAndUtc(s.withdrawal.at, s.timeZone))}: ${esc(s.withdrawal.reason)}</span>`
                : `<span class="${s.decision === 'approve' ? 'pass' : 'fail'}">${s.decision === 'approve' ? 'approved' : 'rejected'}</span>`) +
              `<br>Meaning: <em>${esc(s.meaning)}</em><br>Signed at ${esc(formatLocalAndUtc(s.at, s.timeZone))}<br>Reason: ${esc(s.reason)}<br><span class="muted">Dossier reviewed <code>${esc(s.dossierSha256)}</code></span></div>`,
          )
          .join('\n')
      : '<p>No signatures yet.</p>',
    pending.length ? `<p>Pending: ${esc(pending.join(', '))}.</p>` : '',
    '</section>',
  ].join('\n');
}

function evidenceIndex(d: DossierData): string {
  return [
    '<section id="evidence" data-section="evidence" aria-labelledby="evidence-h">',
    '<h2 id="evidence-h">Evidence index</h2>',
    '<div class="wide">',
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
    '</div>',
    '</section>',
  ].join('\n');
}

/**
 * The dossier as one page, in the order a reviewer reads it: the change, intended use, data provenance, offline
 * results, shadow findings, canary and rollback plans, open risks, the model card; then sign-offs and the index.
 * `modelCard` is the release's model card record (src/dossier/fda-model-card.ts) when one was written.
 */
export function renderDossierHtml(d: DossierData, modelCard: FdaModelCard | null = null): string {
  const r = d.input.request;
  const env = d.snapshot?.environment;
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${esc(`Release dossier: ${r.modelName} ${r.candidate.version}`)}</title>`,
    `<style>${PAGE_CSS}</style>`,
    `<style data-dossier>${DOSSIER_CSS}</style>`,
    '</head><body>',
    '<div class="dossier">',
    '<header>',
    `<h1>Release dossier: ${esc(r.modelName)} ${esc(r.candidate.version)}</h1>`,
    '<dl>',
    `<dt>Release</dt><dd><code>${esc(d.input.releaseId)}</code></dd>`,
    `<dt>Generated</dt><dd>${esc(formatLocalAndUtc(d.input.at))}</dd>`,
    `<dt>Policy</dt><dd>${esc(r.policy.id)} ${esc(r.policy.version)}; sha256 <code>${esc(d.input.policySha256)}</code></dd>`,
    `<dt>Code commit</dt><dd><code>${esc(r.codeCommit)}</code></dd>`,
    ...(env ? [`<dt>Environment</dt><dd><code>${esc(JSON.stringify(env))}</code></dd>`] : []),
    `<dt>Evidence chain head</dt><dd>${d.input.chainHead ? `#${d.input.chainHead.seq} <code>${esc(d.input.chainHead.digest)}</code>` : 'none'}</dd>`,
    '</dl>',
    measurementSources(d),
    '</header>',
    '<main>',
    changeSummarySection(d),
    intendedUse(d),
    dataManifests(d),
    '<section id="evaluation" data-section="evaluation" aria-labelledby="evaluation-h">',
    '<h2 id="evaluation-h">Offline results by cohort</h2>',
    `<div class="wide">${d.offline.html ?? '<p class="fail">No evaluation report was recorded.</p>'}</div>`,
    '</section>',
    shadowFindings(d),
    canaryPlan(d),
    rollbackPlan(d),
    openRisks(d),
    modelCard ? renderFdaModelCardSection(modelCard) : '',
    signatures(d),
    evidenceIndex(d),
    '</main>',
    '</div>',
    '</body></html>',
    '',
  ].join('\n');
}
