/**
 * The dossier sections a reviewer reads after the offline results: shadow findings (with plots) and the
 * adjudicated disagreements, the canary plan, open risks, and which parts were measured on simulated traffic.
 * Pure HTML from the collected evidence; every value escaped.
 */
import { escapeXml, formatNumber } from '../report/svg';
import type { DossierData } from './collect';
import { guardrailText } from './fda-model-card';
import { DEFAULT_COHORT_GUARDRAILS, type SequentialGuardrails, type ShadowMeasurement } from '../domain';
import { cohortAlphaAllocation } from '../judging';

/** Escaped text of a value read from evidence (loosely typed: a missing field shows empty, never throws). */
const esc = (x: unknown) => escapeXml(x === null || x === undefined ? '' : String(x));
const fmt = (x: number | null | undefined, d = 3) =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d);

/** A horizontal bar chart as inline SVG (no scripts, no external assets); `limit` draws a dashed bound. */
export function barChart(opts: {
  title: string;
  bars: { label: string; value: number }[];
  unit?: string;
  limit?: { value: number; label: string };
}): string {
  const rowH = 22;
  const left = 170;
  const width = 560;
  const plotW = width - left - 70;
  const top = 28;
  const height = top + opts.bars.length * rowH + 34;
  const max = Math.max(opts.limit?.value ?? 0, ...opts.bars.map((b) => b.value), 1e-9);
  const x = (v: number) => left + (Math.max(0, v) / max) * plotW;
  const desc = `${opts.title}: ${opts.bars.map((b) => `${b.label} ${formatNumber(b.value, 3)}${opts.unit ?? ''}`).join(', ')}${opts.limit ? `; ${opts.limit.label} ${formatNumber(opts.limit.value, 3)}` : ''}`;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(desc)}" font-family="system-ui, sans-serif" font-size="11">`,
    `<title>${esc(opts.title)}</title><desc>${esc(desc)}</desc>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="16" text-anchor="middle" font-size="13" font-weight="600" fill="#111111">${esc(opts.title)}</text>`,
  ];
  opts.bars.forEach((b, i) => {
    const y = top + i * rowH;
    out.push(
      `<text x="${left - 6}" y="${y + 14}" text-anchor="end" fill="#111111">${esc(b.label)}</text>`,
      `<rect x="${left}" y="${y + 3}" width="${formatNumber(x(b.value) - left, 2)}" height="${rowH - 8}" fill="#1f4e9c"/>`,
      `<text x="${formatNumber(x(b.value) + 4, 2)}" y="${y + 14}" fill="#111111">${esc(formatNumber(b.value, 3))}${esc(opts.unit ?? '')}</text>`,
    );
  });
  const bottom = top + opts.bars.length * rowH;
  out.push(`<path d="M${left} ${top}V${bottom}" stroke="#333333" stroke-width="1"/>`);
  if (opts.limit) {
    const lx = formatNumber(x(opts.limit.value), 2);
    out.push(
      `<path d="M${lx} ${top - 4}V${bottom + 4}" stroke="#a4141c" stroke-width="1.5" stroke-dasharray="5 3"/>`,
      `<text x="${lx}" y="${bottom + 18}" text-anchor="middle" fill="#a4141c">${esc(opts.limit.label)} ${esc(formatNumber(opts.limit.value, 3))}</text>`,
    );
  }
  out.push('</svg>');
  return out.join('');
}

/** Which parts of this dossier were measured on simulated traffic (none, some, or all live stages). */
export function measurementSources(d: DossierData): string {
  const simulated = d.sources.filter((s) => s.source === 'simulated');
  const live = d.sources.filter((s) => s.source !== 'simulated');
  if (d.sources.length === 0)
    return '<p class="muted" id="sources" data-section="sources">No live measurement is part of this dossier yet.</p>';
  if (simulated.length === 0)
    return `<p class="notice-box" id="sources" data-section="sources">Every live measurement in this dossier (${esc([...new Set(live.map((s) => s.stage))].join(', '))}) was measured on the inference gateway's telemetry of real traffic.</p>`;
  return `<p class="warn-box" id="sources" data-section="sources" role="note"><strong>Simulated traffic.</strong> These parts were measured on simulated traffic, not on patients' requests: ${esc([...new Set(simulated.map((s) => s.stage))].join(', '))}${live.length ? `; measured on gateway telemetry: ${esc([...new Set(live.map((s) => s.stage))].join(', '))}` : ''}. Treat their findings as a rehearsal of the procedure, not as evidence about this model on this population.</p>`;
}

/** The shadow measurement's completeness, mirror coverage and attempts, as recorded (absent fields: not shown). */
function measuredFields(m: Partial<ShadowMeasurement>): string[] {
  const c = m.completeness;
  const out: string[] = [];
  if (c)
    out.push(
      `<dt>Window completeness</dt><dd data-field="completeness" data-complete="${String(c.complete)}">${c.complete === true ? 'complete' : c.complete === false ? `<strong class="fail">incomplete</strong>: ${c.lagging} of ${c.gateways} gateways had not uploaded past the window's end after ${(c.waitedMs / 1000).toFixed(1)} s` : 'unknown (no gateway publishes watermarks)'}${c.complete !== false ? ` (${c.gateways} gateway${c.gateways === 1 ? '' : 's'})` : ''}</dd>`,
    );
  if (m.mirror)
    out.push(
      `<dt>Mirror coverage</dt><dd data-field="mirror-coverage">${m.mirror.coverage === null ? 'n/a' : `${(m.mirror.coverage * 100).toFixed(1)}%`} (${m.mirror.paired} of ${m.mirror.production} production predictions mirrored)</dd>`,
    );
  if (m.attempt !== undefined) out.push(`<dt>Measurement attempts</dt><dd data-field="attempts">${m.attempt}</dd>`);
  return out;
}

/** The measured window as recorded: a simulated window's name, or a telemetry window's start and end. */
function windowText(w: unknown): string {
  if (typeof w === 'string') return ` (window <code>${esc(w)}</code>)`;
  const o = w as { start?: unknown; end?: unknown } | null | undefined;
  return o && typeof o.start === 'string' && typeof o.end === 'string' ? `, ${esc(o.start)} – ${esc(o.end)}` : '';
}

/** Shadow findings: agreement, κ, drift, latency, with plots; then the adjudicated disagreements. */
export function shadowFindings(d: DossierData): string {
  const decision = d.input.history.find((h) => h.stage === 'SHADOW' && h.decision)?.decision ?? null;
  const out = [
    '<section id="shadow" data-section="shadow" aria-labelledby="shadow-h">',
    '<h2 id="shadow-h">Shadow findings</h2>',
  ];
  const sh = d.shadow;
  if (!sh) {
    out.push('<p class="fail">No shadow measurement was recorded.</p>', '</section>');
    return out.join('\n');
  }
  const m = sh.measurement;
  const p = d.input.request.policy.shadow;
  if (decision)
    out.push(
      `<p>Shadow gate: <strong class="${decision.verdict === 'pass' ? 'pass' : 'fail'}">${esc(decision.verdict)}</strong> — ${esc(decision.reasons.join('; '))}</p>`,
    );
  out.push(
    '<dl>',
    `<dt>Measured on</dt><dd data-field="source">${esc(sh.source ?? 'simulated (recorded before sources were named)')}${sh.source === 'simulated' ? ' (source: simulated)' : ''}${windowText(sh.window)}</dd>`,
    ...measuredFields(m),
    `<dt>Cases compared</dt><dd>${m.cases} (policy minimum ${p.cases})</dd>`,
    `<dt>Agreement at threshold ${esc(String(sh.threshold ?? d.input.request.policy.operatingThreshold))}</dt><dd>${fmt(m.agreement)} (minimum ${p.minAgreement})</dd>`,
    `<dt>Cohen's κ</dt><dd>${fmt(m.kappa)}${p.minKappa !== undefined ? ` (minimum ${p.minKappa})` : ''}</dd>`,
    ...(m.correlation
      ? [
          `<dt>Score correlation</dt><dd>Pearson ${fmt(m.correlation.pearson)}, Spearman ${fmt(m.correlation.spearman)}</dd>`,
        ]
      : []),
    ...(m.latencyMs
      ? [
          `<dt>Latency p99</dt><dd>candidate ${fmt((m.latencyMs.candidate as { p99?: number }).p99, 1)} ms, production ${fmt((m.latencyMs.production as { p99?: number }).p99, 1)} ms</dd>`,
        ]
      : []),
    ...(m.errors
      ? [`<dt>Scoring errors</dt><dd>candidate ${m.errors.candidate}, production ${m.errors.production}</dd>`]
      : []),
    '</dl>',
  );
  const t = sh.agreementTable;
  const figures: string[] = [];
  if (t)
    figures.push(
      barChart({
        title: 'Alerts of candidate and production on the same cases',
        bars: [
          { label: 'both alert', value: t.both ?? 0 },
          { label: 'neither alerts', value: t.neither ?? 0 },
          { label: 'only candidate alerts', value: t.candidateOnly ?? 0 },
          { label: 'only production alerts', value: t.productionOnly ?? 0 },
        ],
      }),
    );
  if (m.drift && m.drift.features.length)
    figures.push(
      barChart({
        title: 'Input drift against the locked evaluation data (PSI)',
        bars: m.drift.features.map((f) => ({ label: f.feature, value: f.psi })),
        ...(p.maxPsi !== undefined ? { limit: { value: p.maxPsi, label: 'max PSI' } } : {}),
      }),
    );
  if (figures.length) out.push(`<div class="figures">${figures.map((f) => `<figure>${f}</figure>`).join('')}</div>`);
  if (m.drift?.notCompared?.length)
    out.push(`<p class="muted">Drift not compared: ${esc(m.drift.notCompared.join('; '))}</p>`);
  out.push(adjudicated(d), '</section>');
  return out.join('\n');
}

function adjudicated(d: DossierData): string {
  const out = ['<h3 id="adjudication">Adjudicated disagreements</h3>'];
  const policy = d.input.request.policy.shadow.adjudication;
  if (!policy) {
    out.push('<p class="muted">The policy asks for no clinical adjudication of disagreements.</p>');
    return out.join('\n');
  }
  const a = d.adjudication;
  const sample = d.disagreements;
  if (!a) {
    out.push(
      `<p class="fail">No adjudication tally was recorded${sample ? ` (${sample.cases.length} disagreements were sampled)` : ''}.</p>`,
    );
    return out.join('\n');
  }
  const share =
    a.tally.candidateRight + a.tally.productionRight > 0
      ? a.tally.productionRight / (a.tally.candidateRight + a.tally.productionRight)
      : null;
  out.push(
    `<p>${a.tally.adjudicatedCases} of ${a.tally.sampled} sampled disagreements adjudicated (${a.tally.adjudications} verdicts; policy minimum ${policy.minAdjudicated}): candidate right ${a.tally.candidateRight}, production right ${a.tally.productionRight}, unclear ${a.tally.unclear}. Share where production was right: ${fmt(share)} (maximum ${policy.maxCandidateWrongShare}).</p>`,
    `<p class="muted">Rule: ${esc(a.rule)}</p>`,
  );
  if (a.records.length === 0) return out.join('\n');
  const byId = new Map((sample?.cases ?? []).map((c) => [c.sampleId, c]));
  out.push(
    '<div class="wide"><table class="adjudications"><thead><tr>',
    ['Case', 'Site', 'Candidate score', 'Production score', 'Verdict', 'Reviewer', 'Comment']
      .map((h) => `<th scope="col">${h}</th>`)
      .join(''),
    '</tr></thead><tbody>',
    ...a.records.map((r) => {
      const c = byId.get(r.sampleId);
      return `<tr><th scope="row">${esc(r.sampleId)}</th><td>${esc(r.site)}</td><td>${c ? `${fmt(c.candidate.score)}${c.candidate.alert ? ' alert' : ''}` : '—'}</td><td>${c ? `${fmt(c.production.score)}${c.production.alert ? ' alert' : ''}` : '—'}</td><td>${esc(r.verdict)}</td><td>${esc(r.printedName)} (${esc(r.role)})</td><td>${esc(r.comment)}</td></tr>`;
    }),
    '</tbody></table></div>',
  );
  return out.join('\n');
}

/** The canary plan: steps, bake times, guardrails, what happens on failure. */
export function canaryPlan(d: DossierData): string {
  const c = d.input.request.policy.canary;
  const rows = c.steps.map(
    (s, i) =>
      `<tr><td>${i + 1}</td><td>${s.percent}%</td><td>${s.bakeSeconds} s</td><td>${s.cases}</td><td>${s.pause ? `held for a person${s.pause.timeoutSeconds ? ` (rollback after ${s.pause.timeoutSeconds} s)` : ''}` : 'continues when the analysis passes'}</td></tr>`,
  );
  return [
    '<section id="canary-plan" data-section="canary-plan" aria-labelledby="canary-plan-h">',
    '<h2 id="canary-plan-h">Canary plan</h2>',
    `<table class="canary-steps"><thead><tr><th scope="col">Step</th><th scope="col">Patients</th><th scope="col">Bake</th><th scope="col">Min. cases</th><th scope="col">After the step</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
    `<p>Guardrails: ${esc(guardrailText(c.guardrails))}.${c.sequential ? ' The sensitivity comparison is anytime-valid (sequential), so looking at every interval does not inflate the false-rollback rate.' : ''}</p>`,
    cohortPlan(c.sequential),
    `<p>On a failed guardrail: ${c.onFailure === 'escalate' ? `the canary is taken off patients and a person decides within ${c.escalationTimeoutSeconds ?? '?'} s (no decision: rollback)` : 'immediate rollback'}; an inconclusive interval holds.</p>`,
    '</section>',
  ].join('\n');
}

/**
 * What the canary judges per clinical cohort, and how α is split (src/judging/cohort-guardrails.ts): signed before
 * the canary, so a reviewer knows which cohorts can stop it and with what false-rollback rate.
 */
function cohortPlan(g: SequentialGuardrails | undefined): string {
  if (!g) return '';
  const c = g.cohorts ?? DEFAULT_COHORT_GUARDRAILS;
  if (c.attributes.length === 0)
    return '<p data-testid="cohort-plan">Per-cohort guardrails: none (the canary is judged as a whole only).</p>';
  const a = cohortAlphaAllocation(g.alpha, c);
  const p = (x: number) => x.toPrecision(2);
  return `<p data-testid="cohort-plan">Per-cohort guardrails: every level of ${c.attributes.map((x) => `<code>${esc(x)}</code>`).join(', ')} (up to ${c.maxLevels} levels each) is judged at every look by the same anytime-valid comparison of canary against concurrent control within the cohort (α = ${p(a.perCohort)} each, compared once both arms have ${c.minPositives} labelled positives), and by a catastrophic-failure floor: the canary's sensitivity or alert-rate upper bound below ${c.floor.relative} × the control's lower bound rolls back at that look (exact bounds at α = ${p(a.perFloorBound)} each). α = ${g.alpha} is split by Bonferroni: whole canary ${p(a.overall)}, cohort comparisons ${p(a.alpha * c.alphaShare)}, floor ${p(a.alpha * c.floor.alphaShare)}; so the chance of any false rollback over all cohorts and looks is at most ${g.alpha}.</p>`;
}

/** What is still open when the reviewer signs: failed or inconclusive criteria, model-card limits, gaps. */
export function openRisks(d: DossierData): string {
  const risks: string[] = [];
  for (const c of d.offline.report?.report.criteria ?? [])
    if (c.status !== 'pass') risks.push(`Offline criterion ${c.id} is ${c.status}: ${c.reason}`);
  for (const h of d.input.history)
    if (h.decision && h.decision.verdict !== 'pass')
      risks.push(`${h.stage} ended ${h.decision.verdict}: ${h.decision.reasons.join('; ')}`);
  if (d.sources.some((s) => s.source === 'simulated'))
    risks.push(
      'Live-stage findings come from simulated traffic; real patients have not yet been scored by this model.',
    );
  const m = d.shadow?.measurement;
  if (m?.drift?.notCompared?.length)
    risks.push(`Input drift could not be compared for: ${m.drift.notCompared.join('; ')}`);
  if (m?.completeness && m.completeness.complete !== true)
    risks.push('The shadow window may be incomplete: a gateway had not uploaded all of its telemetry.');
  for (const { dataset, manifest } of d.manifests) {
    if (!manifest) risks.push(`Dataset ${dataset.name} has no manifest: its provenance is unknown.`);
    else if (!manifest.steps?.some((s) => s.kind === 'labelling' && s.interRaterAgreement))
      risks.push(`Labels of ${dataset.name} have no measured inter-rater agreement.`);
  }
  const card = d.modelCard && !('error' in d.modelCard) ? d.modelCard : null;
  for (const l of card?.limitations ?? []) risks.push(`Known limitation: ${l}`);
  if (!card) risks.push('No valid model card: intended use and limitations are not stated.');
  return [
    '<section id="risks" data-section="risks" aria-labelledby="risks-h">',
    '<h2 id="risks-h">Open risks</h2>',
    risks.length ? `<ul>${risks.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>` : '<p>None recorded.</p>',
    '</section>',
  ].join('\n');
}
