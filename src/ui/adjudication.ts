/**
 * Clinical adjudication of shadow disagreements in the web UI: the sampled cases (read from the
 * `vigil.shadow-disagreements/v1` evidence, digest re-checked) and, per case, a form for the verdict. The reviewer is
 * the session's user (role qa or clinical; the release's submitter may not adjudicate). Reviewers see how many
 * adjudications a case has, never the others' verdicts, so each judgement is independent.
 */
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { html } from 'hono/html';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { DisagreementSample } from '../contracts/shadow-records';
import { AdjudicationRefusal, adjudicationInput, adjudicatorRoles, submitAdjudication } from '../api/adjudication';
import type { Identity, Session } from '../auth';
import type { ReleaseStatus, ShadowAdjudicationStatus } from '../domain';
import type { UiDeps } from './deps';
import { layout, when, type PageContext } from './views';
import { formatLocalAndUtc } from '../report/time';

type Env = { Variables: { session: Session | null; user: Identity | null } };
type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export interface AdjudicationRouteHelpers {
  ctxOf(c: Context<Env>): PageContext;
  csrfOk(c: Context<Env>, form: Record<string, unknown>): boolean;
  csrfRefused(c: Context<Env>): Response | Promise<Response>;
  unauthenticated(c: Context<Env>): Response | Promise<Response>;
  statusOr404(releaseId: string): Promise<ReleaseStatus>;
  limit: MiddlewareHandler;
}

/** Why this user may not adjudicate on this release (null: they may). */
export function adjudicationBlocked(user: Identity, status: ReleaseStatus): string | null {
  const a = status.shadowAdjudication;
  if (!a) return 'This release has no disagreement sample to adjudicate.';
  if (!a.open) return 'Adjudication is closed for this release.';
  if (status.submittedBy === user.id)
    return 'You submitted this release: separation of duties forbids you to adjudicate it.';
  if (adjudicatorRoles(user).length === 0) return 'Your account has no role that adjudicates (qa or clinical).';
  return null;
}

export function registerAdjudicationRoutes(ui: Hono<Env>, deps: UiDeps, h: AdjudicationRouteHelpers): void {
  const page = async (
    c: Context<Env>,
    releaseId: string,
    extra: { notice?: string; error?: string; httpStatus?: ContentfulStatusCode } = {},
  ) => {
    const user = c.get('user')!;
    const status = await h.statusOr404(releaseId);
    const a = status.shadowAdjudication;
    let sample: DisagreementSample | { error: string } | null = null;
    if (a?.sample) {
      try {
        sample = JSON.parse(
          Buffer.from(await deps.evidence.getBytes(a.sample.key, a.sample.sha256)).toString('utf8'),
        ) as DisagreementSample;
      } catch (err) {
        deps.log.warn({ key: a.sample.key, err: String(err) }, 'ui: disagreement sample unreadable');
        sample = {
          error: `The disagreement sample ${a.sample.key} could not be read or failed its digest check: ${(err as Error).message}`,
        };
      }
    }
    const { httpStatus = 200, ...messages } = extra;
    return c.html(
      adjudicationPage(h.ctxOf(c), { status, sample, user, blocked: adjudicationBlocked(user, status), ...messages }),
      httpStatus,
    );
  };

  ui.get('/releases/:id/adjudication', async (c) => {
    if (!c.get('user')) return h.unauthenticated(c);
    return page(c, c.req.param('id'));
  });

  ui.post('/releases/:id/adjudications/:sampleId', h.limit, async (c) => {
    const user = c.get('user');
    if (!user) return h.unauthenticated(c);
    const form = await c.req.parseBody();
    if (!h.csrfOk(c, form)) return h.csrfRefused(c);
    const releaseId = c.req.param('id');
    const sampleId = c.req.param('sampleId');
    const str = (v: unknown) => (typeof v === 'string' ? v : '');
    try {
      const input = adjudicationInput(user, {
        sampleId,
        verdict: str(form.verdict),
        comment: str(form.comment),
        ...(str(form.role) ? { role: str(form.role) } : {}),
      });
      const result = await submitAdjudication(deps, releaseId, input);
      deps.log.info({ releaseId, reviewer: user.id, sampleId, verdict: input.verdict }, 'ui: adjudication accepted');
      return page(c, releaseId, {
        notice: `Your adjudication of ${sampleId} was recorded (${result.adjudicatedCases} of ${result.required} required cases adjudicated).`,
      });
    } catch (err) {
      if (!(err instanceof AdjudicationRefusal)) throw err;
      deps.log.info(
        { releaseId, reviewer: user.id, sampleId, status: err.status, reason: err.message },
        'ui: adjudication refused',
      );
      return page(c, releaseId, { error: err.message, httpStatus: err.status });
    }
  });
}

const fmt = (x: number) => x.toFixed(3);

export function adjudicationPage(
  ctx: PageContext,
  d: {
    status: ReleaseStatus;
    sample: DisagreementSample | { error: string } | null;
    user: Identity;
    blocked: string | null;
    notice?: string;
    error?: string;
  },
): Html {
  const s = d.status;
  const a = s.shadowAdjudication;
  const base = `/ui/releases/${encodeURIComponent(s.releaseId)}`;
  return layout(
    `Adjudication ${s.releaseId}`,
    ctx,
    html`<h1>Shadow disagreements: <code>${s.releaseId}</code></h1>
<p><a href="${base}">Back to the release</a></p>
${d.notice ? html`<p class="notice" role="status" data-testid="adjudicated">${d.notice}</p>` : ''}
${d.error ? html`<p class="alert" role="alert" id="adjudication-error">${d.error}</p>` : ''}
${
  // One empty state, never two: no sample yet, or a shadow run without disagreements.
  !a
    ? html`<p data-testid="adjudication-empty">No disagreement sample yet: it is drawn when the shadow run ends (stage now ${s.stage}).</p>`
    : !a.sample
      ? html`${progress(a, ctx)}<p data-testid="adjudication-empty">The shadow run found no disagreements, so there is nothing to adjudicate.</p>`
      : html`${progress(a, ctx)}
<p class="hint">For each case: which model made the right call at the operating threshold? Judge from the inputs, as you would at the bedside.
Other reviewers' verdicts are not shown. Do not enter identifying information in comments.</p>
${d.blocked ? html`<p data-testid="blocked">${d.blocked}</p>` : ''}
${d.sample === null ? '' : 'error' in d.sample ? html`<p class="alert" role="alert">${d.sample.error}</p>` : cases(ctx, base, d.sample, a, d.user, d.blocked)}`
}`,
  );
}

function progress(a: ShadowAdjudicationStatus, ctx: PageContext): Html {
  return html`<dl class="kv">
  <dt>Status</dt><dd data-testid="adjudication-open">${a.open ? 'open' : 'closed'}</dd>
  <dt>Adjudicated cases</dt><dd data-testid="adjudication-progress">${a.adjudicatedCases} of ${a.required} required (${a.sampled} sampled)</dd>
  <dt>Closes by</dt><dd>${when(a.deadline, ctx.user?.timeZone)}</dd>
  ${a.sample ? html`<dt>Sample</dt><dd><span class="digest">${a.sample.key}</span></dd>` : ''}
  ${a.tally ? html`<dt>Result</dt><dd>candidate right ${a.tally.candidateRight}, production right ${a.tally.productionRight}, unclear ${a.tally.unclear}</dd>` : ''}
</dl>`;
}

function cases(
  ctx: PageContext,
  base: string,
  sample: DisagreementSample,
  a: ShadowAdjudicationStatus,
  user: Identity,
  blocked: string | null,
): Html {
  const roles = adjudicatorRoles(user);
  return html`<div class="scroll"><table><caption class="hint">Threshold ${sample.threshold}; inputs as the candidate received them (— = missing)</caption>
<thead><tr><th scope="col">Case</th><th scope="col">Site</th><th scope="col">Candidate</th><th scope="col">Production</th><th scope="col">Inputs</th><th scope="col">Adjudications</th><th scope="col">Your verdict</th></tr></thead>
<tbody>${sample.cases.map((c) => {
    const mine = a.adjudications.find((x) => x.sampleId === c.sampleId && x.reviewer === user.id);
    const count = a.adjudications.filter((x) => x.sampleId === c.sampleId).length;
    return html`<tr data-sample="${c.sampleId}"><th scope="row">${c.sampleId}<br><span class="hint digest">${c.caseIdHash.slice(0, 12)}…</span></th><td>${c.site}</td>
<td>${fmt(c.candidate.score)} ${c.candidate.alert ? html`<strong>alert</strong>` : 'no alert'}</td>
<td>${fmt(c.production.score)} ${c.production.alert ? html`<strong>alert</strong>` : 'no alert'}</td>
<td><span class="hint">${
      Object.keys(c.features).length
        ? Object.entries(c.features)
            .map(([f, v]) => `${f} ${v === null ? '—' : v.toFixed(2)}`)
            .join(' · ')
        : `not recorded by the gateway${c.predictedAt ? `; scored at ${formatLocalAndUtc(c.predictedAt, ctx.user?.timeZone)}` : ''}`
    }</span></td>
<td>${count}</td>
<td>${mine ? html`<span data-testid="mine">${mine.verdict}</span>` : blocked ? '' : verdictForm(ctx, base, c.sampleId, roles)}</td></tr>`;
  })}</tbody></table></div>`;
}

function verdictForm(ctx: PageContext, base: string, sampleId: string, roles: string[]): Html {
  const id = (x: string) => `${sampleId}-${x}`;
  return html`<form class="stack" method="post" action="${base}/adjudications/${sampleId}">
<input type="hidden" name="_csrf" value="${ctx.csrf ?? ''}">
${roles.length > 1 ? html`<div><label for="${id('role')}">As</label><select id="${id('role')}" name="role">${roles.map((r) => html`<option value="${r}">${r}</option>`)}</select></div>` : html`<input type="hidden" name="role" value="${roles[0] ?? ''}">`}
<fieldset><legend>Who was right?</legend>
<label><input type="radio" name="verdict" value="candidate" required> Candidate</label>
<label><input type="radio" name="verdict" value="production"> Production</label>
<label><input type="radio" name="verdict" value="unclear"> Unclear</label></fieldset>
<div><label for="${id('comment')}">Comment</label><textarea id="${id('comment')}" name="comment" required maxlength="2000" rows="2"></textarea></div>
<div><button type="submit">Record verdict</button></div>
</form>`;
}
