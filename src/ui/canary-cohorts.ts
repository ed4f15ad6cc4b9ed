/**
 * The release page's per-cohort canary table: each guarded cohort's verdict and statistics at the canary's latest
 * look, read from that look's verdict record (`vigil.guardrail-verdict/v1`, the judge's own evidence) by its digest.
 */
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { ReleaseStatus } from '../domain';
import type { CohortJudgement } from '../judging';
import type { UiDeps } from './deps';

/** The latest canary look's per-cohort judgement; null when no look was judged per cohort; error when unreadable. */
export type CanaryCohorts = { where: string; judgement: CohortJudgement } | { error: string } | null;

export async function canaryCohorts(
  deps: Pick<UiDeps, 'evidence' | 'log'>,
  status: Pick<ReleaseStatus, 'history'>,
): Promise<CanaryCohorts> {
  const look = status.history.filter((h) => h.stage === 'CANARY' && h.decision !== null).at(-1);
  const ref = look?.artifacts.at(-1);
  if (!look || !ref) return null;
  try {
    const doc = JSON.parse(Buffer.from(await deps.evidence.getBytes(ref.key, ref.sha256)).toString('utf8')) as {
      kind?: string;
      look?: number;
      verdict?: { evidence?: { cohorts?: CohortJudgement } };
    };
    const judgement = doc.kind === 'vigil.guardrail-verdict/v1' ? doc.verdict?.evidence?.cohorts : undefined;
    if (!judgement) return null;
    return { where: `step ${(look.step ?? 0) + 1}, look ${doc.look ?? '?'}`, judgement };
  } catch (err) {
    deps.log.warn({ key: ref.key, err: String(err) }, 'ui: canary verdict record unreadable');
    return { error: `The canary verdict record ${ref.key} could not be read or failed its digest check` };
  }
}

const pct = (x: number | null): string => (x === null ? '—' : `${(x * 100).toFixed(1)} %`);
const f3 = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : x.toFixed(3));

/** A compact table: cohort, verdict, both arms' sensitivity (positives) and alert rate, the drop's bounds, the floor. */
export function canaryCohortsSection(c: CanaryCohorts): HtmlEscapedString | Promise<HtmlEscapedString> {
  if (!c) return html``;
  if ('error' in c)
    return html`<section aria-labelledby="cohorts-h"><h2 id="cohorts-h">Canary per cohort</h2><p role="alert">${c.error}</p></section>`;
  const a = c.judgement.allocation;
  return html`<section aria-labelledby="cohorts-h"><h2 id="cohorts-h">Canary per cohort</h2>
<div class="scroll" data-testid="canary-cohorts"><table><caption class="hint">At ${c.where}: each cohort's canary vs concurrent control; comparison at α = ${a.perCohort.toPrecision(2)} each, floor bounds at ${a.perFloorBound.toPrecision(2)} (whole canary ${a.overall.toPrecision(3)}; total α ${a.alpha}); fewer than ${c.judgement.minPositives} positives in an arm is not compared</caption>
<thead><tr><th scope="col">Cohort</th><th scope="col">Verdict</th><th scope="col">Canary sensitivity</th><th scope="col">Control sensitivity</th><th scope="col">Alert rate canary / control</th><th scope="col">Drop [confidence sequence]</th><th scope="col">Floor (canary upper vs limit)</th></tr></thead>
<tbody>${c.judgement.cohorts.map(
    (x) =>
      html`<tr data-cohort="${x.cohort}"><th scope="row">${x.cohort}</th><td>${x.verdict}</td><td>${pct(x.canary.sensitivity)} (${x.canary.truePositives}/${x.canary.positives})</td><td>${pct(x.control.sensitivity)} (${x.control.truePositives}/${x.control.positives})</td><td>${pct(x.canary.alertRate)} / ${pct(x.control.alertRate)}</td><td>${x.comparison ? `${f3(x.comparison.drop)} [${f3(x.comparison.lower)}, ${f3(x.comparison.upper)}]` : '—'}</td><td>${x.floor.sensitivity ? `${f3(x.floor.sensitivity.canaryUpper)} vs ${f3(x.floor.sensitivity.limit)}${x.floor.sensitivity.breached ? ' breached' : ''}` : '—'}</td></tr>`,
  )}</tbody></table></div></section>`;
}
