import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { Identity } from '../auth';
import type { EvidenceRef, ReleaseStatus, Role, SignatureRecord, SignerAuthentication, StageRecord } from '../domain';
import { describeMeasuredBy } from '../judging/measured-by';
import { formatLocalAndUtc } from '../report/time';
import { canaryCohortsSection, type CanaryCohorts } from './canary-cohorts';

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** An instant for people: in `zone` (the viewer's or signer's account zone) and in UTC, machine-readable too. */
export function when(iso: string | null | undefined, zone?: string | null): Html {
  if (!iso) return html``;
  return html`<time datetime="${iso}">${formatLocalAndUtc(iso, zone)}</time>`;
}

export interface PageContext {
  user: Identity | null;
  csrf: string | null;
}

export function layout(title: string, ctx: PageContext, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Vigil</title>
<link rel="stylesheet" href="/ui/assets/app.css">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <strong><a href="/ui/inbox">Vigil sign-off</a></strong>
  ${
    ctx.user
      ? html`<nav aria-label="Main"><ul>
        <li><a href="/ui/inbox">Inbox</a></li>
        <li><a href="/ui/releases">All releases</a></li>
        <li><span>Signed in as <strong data-testid="whoami">${ctx.user.name}</strong> (${ctx.user.roles.join(', ')})</span></li>
        <li><form method="post" action="/ui/logout"><input type="hidden" name="_csrf" value="${ctx.csrf ?? ''}"><button type="submit">Sign out</button></form></li>
      </ul></nav>`
      : ''
  }
</header>
<main id="main" tabindex="-1">
${body}
</main>
</body>
</html>`;
}

export function loginPage(opts: {
  error?: string;
  /** A neutral message (e.g. "Please sign in." on a first visit): not an error. */
  notice?: string;
  next?: string;
  username?: string;
  usersConfigured: boolean;
  /** People sign in at this OpenID provider (src/ui/oidc-routes.ts): a link there instead of the password form. */
  sso?: string;
}): Html {
  if (opts.sso) {
    return layout(
      'Sign in',
      { user: null, csrf: null },
      html`<h1>Sign in</h1>
${opts.notice ? html`<p class="info" role="status" id="login-notice">${opts.notice}</p>` : ''}
${opts.error ? html`<p class="alert" role="alert" id="login-error">${opts.error}</p>` : ''}
<p>This server signs you in through your organisation's identity provider (${opts.sso}).</p>
<p><a class="button" id="sso-login" href="/ui/oidc/login?next=${encodeURIComponent(opts.next ?? '/ui/inbox')}">Sign in with ${opts.sso}</a></p>`,
    );
  }
  return layout(
    'Sign in',
    { user: null, csrf: null },
    html`<h1>Sign in</h1>
${opts.usersConfigured ? '' : html`<p class="alert" role="alert">No users are configured on this server (set VIGIL_USERS_FILE).</p>`}
${opts.notice ? html`<p class="info" role="status" id="login-notice">${opts.notice}</p>` : ''}
${opts.error ? html`<p class="alert" role="alert" id="login-error">${opts.error}</p>` : ''}
<form class="stack" method="post" action="/ui/login">
  <input type="hidden" name="next" value="${opts.next ?? '/ui/inbox'}">
  <div><label for="username">User id</label><input type="text" id="username" name="username" autocomplete="username" required value="${opts.username ?? ''}" autofocus></div>
  <div><label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required></div>
  <div><button type="submit">Sign in</button></div>
</form>`,
  );
}

export function errorPage(ctx: PageContext, title: string, message: string): Html {
  return layout(
    title,
    ctx,
    html`<h1>${title}</h1><p class="alert" role="alert">${message}</p><p><a href="/ui/inbox">Back to the inbox</a></p>`,
  );
}

export interface InboxRow {
  releaseId: string;
  model: string | null;
  candidateVersion: string;
  submittedBy: string;
  pendingForMe: Role[];
  deadline: string | null;
}

export function inboxPage(ctx: PageContext, rows: InboxRow[], note?: string): Html {
  return layout(
    'Inbox',
    ctx,
    html`<h1>Releases awaiting your signature</h1>
${note ? html`<p class="notice">${note}</p>` : ''}
${
  rows.length === 0
    ? html`<p>Nothing is waiting for your roles (${ctx.user!.roles.join(', ')}).</p>`
    : html`<div class="scroll"><table><caption class="hint">Pending sign-offs for your roles</caption>
<thead><tr><th scope="col">Release</th><th scope="col">Model</th><th scope="col">Candidate</th><th scope="col">Submitted by</th><th scope="col">Your pending roles</th><th scope="col">Sign by</th></tr></thead>
<tbody>${rows.map(
        (r) =>
          html`<tr><td><a href="/ui/releases/${encodeURIComponent(r.releaseId)}">${r.releaseId}</a></td><td>${r.model ?? ''}</td><td>${r.candidateVersion}</td><td>${r.submittedBy}</td><td>${r.pendingForMe.join(', ')}</td><td>${when(r.deadline, ctx.user?.timeZone)}</td></tr>`,
      )}</tbody></table></div>`
}`,
  );
}

export interface ListRow {
  releaseId: string;
  status: string;
  stage: string | null;
  outcome: string | null;
  startTime: string;
}

export function releasesPage(ctx: PageContext, rows: ListRow[]): Html {
  return layout(
    'All releases',
    ctx,
    html`<h1>All releases</h1>
<div class="scroll"><table><thead><tr><th scope="col">Release</th><th scope="col">Stage</th><th scope="col">Outcome</th><th scope="col">Started</th><th scope="col">Audit</th></tr></thead>
<tbody>${rows.map(
      (r) =>
        html`<tr><td><a href="/ui/releases/${encodeURIComponent(r.releaseId)}">${r.releaseId}</a></td><td>${r.stage ?? ''}</td><td>${r.outcome ?? r.status}</td><td>${when(r.startTime, ctx.user?.timeZone)}</td><td><a href="/ui/releases/${encodeURIComponent(r.releaseId)}/timeline">Timeline</a></td></tr>`,
    )}</tbody></table></div>`,
  );
}

const verdictBadge = (v: string | undefined | null): Html =>
  v ? html`<span class="badge ${v}">${v}</span>` : html`<span class="badge">pending</span>`;

/** 21 CFR 11.50: printed name, date and time, and meaning of the signature, shown wherever a signature is. */
export function manifestation(s: SignatureRecord): Html {
  return html`<div class="manifestation" data-testid="signature" data-role="${s.role}">
  <strong>${s.printedName}</strong> (<code>${s.signer}</code>, ${s.role}) — <span class="${s.decision === 'approve' ? 'ok' : 'bad'}">${s.decision === 'approve' ? 'approved' : 'rejected'}</span><br>
  Meaning: <em>${s.meaning}</em><br>
  Signed at <span data-testid="signed-at">${when(s.at, s.timeZone)}</span>${s.timeZone ? '' : html` <span class="hint">(no time zone on record)</span>`}<br>
  Reason: <span data-testid="reason">${s.reason}</span><br>
  ${s.authentication ? html`${authenticatedBy(s.authentication, s.timeZone)}<br>` : ''}
  ${s.withdrawal ? html`<span class="bad">Withdrawn ${when(s.withdrawal.at, s.timeZone)}: ${s.withdrawal.reason}</span><br>${s.withdrawal.authentication ? html`${authenticatedBy(s.withdrawal.authentication, s.timeZone)}<br>` : ''}` : ''}
  <span class="hint">Dossier <span class="digest">${s.dossierSha256}</span>; record <span class="digest">${s.evidence.key}</span></span>
</div>`;
}

/** The identity provider's re-authentication for a signing act: provider, subject, auth_time and amr (docs/sso.md). */
function authenticatedBy(a: SignerAuthentication, zone: string | undefined): Html {
  return html`<span data-testid="authentication" data-subject="${a.subject}" data-auth-time="${a.authTime}">Authenticated at <code>${a.issuer}</code> as <code>${a.subject}</code> at ${when(a.authTime, zone)}${a.amr?.length ? html` (amr: ${a.amr.join(', ')})` : ''}${a.acr ? html` (acr: ${a.acr})` : ''}</span>`;
}

function decisionsTable(history: StageRecord[], zone: string | null | undefined): Html {
  return html`<div class="scroll" data-testid="decisions"><table class="decisions"><caption class="hint">Every stage decision so far, as the workflow recorded it</caption>
<colgroup><col class="c-stage"><col class="c-step"><col class="c-verdict"><col><col class="c-measured"><col class="c-time"></colgroup>
<thead><tr><th scope="col">Stage</th><th scope="col">Step</th><th scope="col">Verdict</th><th scope="col">Reasons</th><th scope="col">Measured</th><th scope="col">Ended</th></tr></thead>
<tbody>${history.map(
    (h) =>
      html`<tr><td>${h.stage}</td><td>${h.step ?? ''}</td><td>${verdictBadge(h.decision?.verdict)}</td><td>${h.decision ? html`<ul>${h.decision.reasons.map((r) => html`<li>${r}</li>`)}</ul>` : ''}</td><td>${measuredCell(h)}</td><td>${when(h.endedAt, zone)}</td></tr>`,
  )}</tbody></table></div>`;
}

/** How a live decision was measured, as fields (source, completeness, mirror coverage, attempts); simulated in a warning. */
function measuredCell(h: StageRecord): Html | string {
  const m = h.measured;
  if (!m) return '';
  const c = m.completeness;
  return html`<span class="${m.source === 'simulated' ? 'bad' : ''}" data-testid="measured" data-source="${m.source}"${c ? html` data-complete="${String(c.complete)}"` : ''}${m.mirrorCoverage !== undefined ? html` data-mirror-coverage="${String(m.mirrorCoverage)}"` : ''}${m.attempts !== undefined ? html` data-attempts="${m.attempts}"` : ''}>${describeMeasuredBy(m)}</span>`;
}

export interface SignFormState {
  eligibleRoles: Role[];
  /** The defined meanings per eligible role (users file `meanings`, else the defaults). */
  meanings: Partial<Record<Role, string[]>>;
  /** Why the form is not shown (e.g. "you submitted this release"). */
  blockedReason: string | null;
  /** Set under OIDC: the provider's name; signing re-authenticates there instead of asking for the password. */
  sso?: string;
  error?: string;
  values?: { meaning?: string; reason?: string; role?: string; decision?: string };
}

/** The dossier document as the release page shows it: its scoped stylesheet and body, and which refs were read. */
export type DossierDocument =
  | { css: string; body: string; index: EvidenceRef; html: EvidenceRef; modelCard: EvidenceRef | null; final: boolean }
  | { error: string }
  | null;

export interface ReleasePageData {
  status: ReleaseStatus;
  /** The dossier document the digest names, read and re-hashed for this view; or why it is not shown. */
  dossier: DossierDocument;
  sign: SignFormState;
  /** The canary's latest look per cohort (src/ui/canary-cohorts.ts); absent or null: none judged per cohort. */
  cohorts?: CanaryCohorts;
}

export function releasePage(ctx: PageContext, d: ReleasePageData): Html {
  const s = d.status;
  const zone = ctx.user?.timeZone;
  const base = `/ui/releases/${encodeURIComponent(s.releaseId)}`;
  const doc = d.dossier;
  return layout(
    s.releaseId,
    ctx,
    html`${doc && !('error' in doc) ? html`<style>${raw(doc.css)}</style>` : ''}
<h1>Release <code>${s.releaseId}</code></h1>
<p class="links"><a href="${base}/timeline">Audit timeline</a>${
      doc && !('error' in doc)
        ? html` · <a href="${base}/dossier.pdf" data-testid="pdf-link">Dossier as PDF</a> · <a href="${base}/dossier.html">Dossier page as stored</a>${doc.modelCard ? html` · <a href="${base}/model-card">Model card</a>` : ''}`
        : ''
    }</p>
<section aria-labelledby="status-h"><h2 id="status-h">Status</h2>
<dl class="kv">
  <dt>Stage</dt><dd data-testid="stage">${s.stage}</dd>
  ${s.outcome ? html`<dt>Outcome</dt><dd data-testid="outcome">${s.outcome}: ${s.reason ?? ''}</dd>` : ''}
  <dt>Candidate vs incumbent</dt><dd>${s.modelName} ${s.candidateVersion} replacing ${s.incumbentVersion}</dd>
  <dt>Required roles</dt><dd>${s.requiredRoles.join(', ')}${s.stage === 'AWAITING_APPROVAL' ? html`; pending: <span data-testid="pending">${s.pendingRoles.join(', ') || 'none'}</span>` : ''}</dd>
  ${s.stage === 'AWAITING_APPROVAL' && s.approvalDeadline ? html`<dt>Sign by</dt><dd data-testid="sign-by">${when(s.approvalDeadline, zone)}</dd>` : ''}
  <dt>Dossier</dt><dd>${s.dossier ? html`<span class="digest" data-testid="dossier">${s.dossier.sha256}</span>` : 'not built yet'}</dd>
  ${
    s.shadowAdjudication
      ? html`<dt>Adjudication</dt><dd data-testid="adjudication-link"><a href="${base}/adjudication">Clinical adjudication of disagreements</a>: ${s.shadowAdjudication.adjudicatedCases} of ${s.shadowAdjudication.required} required cases adjudicated (${s.shadowAdjudication.open ? html`open until ${when(s.shadowAdjudication.deadline, zone)}` : 'closed'}).</dd>`
      : ''
  }
</dl></section>
${dossierSection(s, doc)}
${signForm(ctx, s, d.sign)}
<section aria-labelledby="sigs-h"><h2 id="sigs-h">Signatures</h2>
${s.signatures.length ? s.signatures.map(manifestation) : html`<p>No signatures yet.</p>`}
</section>
${canaryCohortsSection(d.cohorts ?? null)}
<section aria-labelledby="decisions-h"><h2 id="decisions-h">Stage decisions</h2>${decisionsTable(s.history, zone)}</section>`,
  );
}

/** The dossier document itself: what the signer signs, shown in full before the sign form. */
function dossierSection(s: ReleaseStatus, doc: DossierDocument): Html {
  if (doc === null)
    return html`<section aria-labelledby="dossier-h"><h2 id="dossier-h">Dossier</h2><p>No dossier yet (stage ${s.stage}): it is built when the release reaches AWAITING_APPROVAL.</p></section>`;
  if ('error' in doc)
    return html`<section aria-labelledby="dossier-h"><h2 id="dossier-h">Dossier</h2><p class="alert" role="alert" data-testid="dossier-error">${doc.error}</p></section>`;
  return html`<section aria-labelledby="dossier-h" data-testid="dossier-document"><h2 id="dossier-h">${doc.final ? 'Final dossier (with sign-offs)' : 'The dossier you are asked to sign'}</h2>
<p class="hint">Dossier <span class="digest" data-testid="dossier-index">${doc.index.sha256}</span>: read from the evidence store and re-hashed for this view, with its page <span class="digest">${doc.html.sha256}</span>.${doc.final ? html` The signatures below were bound to <span class="digest">${s.dossier?.sha256 ?? ''}</span>, the dossier before sign-off.` : ''}</p>
<div class="dossier-frame">${raw(doc.body)}</div></section>`;
}

function signForm(ctx: PageContext, s: ReleaseStatus, f: SignFormState): Html {
  if (s.stage !== 'AWAITING_APPROVAL' || !s.dossier) return html``;
  if (f.blockedReason) {
    return html`<section aria-labelledby="sign-h"><h2 id="sign-h">Sign</h2>
${f.error ? html`<p class="alert" role="alert" id="sign-error">${f.error}</p>` : ''}<p>${f.blockedReason}</p></section>`;
  }
  const v = f.values ?? {};
  return html`<section aria-labelledby="sign-h"><h2 id="sign-h">Sign this release</h2>
${f.error ? html`<p class="alert" role="alert" id="sign-error">${f.error}</p>` : ''}
<p>Your signature is bound to dossier <span class="digest">${s.dossier.sha256}</span>. Signing requires ${f.sso ? 'a fresh sign-in' : 'your password again'} (21 CFR 11.200).</p>
<form class="stack" method="post" action="/ui/releases/${encodeURIComponent(s.releaseId)}/sign">
  <input type="hidden" name="_csrf" value="${ctx.csrf ?? ''}">
  <input type="hidden" name="dossierSha256" value="${s.dossier.sha256}">
  <div><label for="role">Role you sign for</label>
    <select id="role" name="role" required>${f.eligibleRoles.map((r) => html`<option value="${r}" ${v.role === r ? 'selected' : ''}>${r}</option>`)}</select></div>
  <fieldset><legend>Decision</legend>
    <label><input type="radio" name="decision" value="approve" ${v.decision === 'reject' ? '' : 'checked'}> Approve</label>
    <label><input type="radio" name="decision" value="reject" ${v.decision === 'reject' ? 'checked' : ''}> Reject (ends the release)</label>
  </fieldset>
  <div><label for="meaning">Meaning of this signature <span class="hint">(defined for your role)</span></label>
    <select id="meaning" name="meaning" required>${f.eligibleRoles.map(
      (r) =>
        html`<optgroup label="${r}">${(f.meanings[r] ?? []).map((m) => html`<option value="${m}" ${v.meaning === m ? 'selected' : ''}>${m}</option>`)}</optgroup>`,
    )}</select></div>
  <div><label for="reason">Reason</label><textarea id="reason" name="reason" required maxlength="2000" rows="3">${v.reason ?? ''}</textarea></div>
  ${
    f.sso
      ? html`<p id="sign-reauth">Signing sends you to ${f.sso} to sign in again (re-authentication for this signature).</p>`
      : html`<div><label for="sign-password">Your password <span class="hint">(re-authentication)</span></label>
    <input type="password" id="sign-password" name="password" autocomplete="current-password" required></div>`
  }
  <div><button type="submit">Sign</button></div>
</form></section>`;
}

export function signedPage(
  ctx: PageContext,
  releaseId: string,
  sig: SignatureRecord,
  repeated: boolean,
  pending: Role[],
): Html {
  return layout(
    'Signature recorded',
    ctx,
    html`<h1>Signature recorded</h1>
<p class="notice" role="status" data-testid="signed">${repeated ? 'This signature was already recorded; nothing new was submitted.' : 'Your signature was accepted by the release workflow.'}
Pending roles: ${pending.join(', ') || 'none'}.</p>
${manifestation(sig)}
<p><a href="/ui/releases/${encodeURIComponent(releaseId)}">Back to the release</a> · <a href="/ui/inbox">Inbox</a></p>`,
  );
}

export interface TimelineSignature {
  record: SignatureRecord;
  verification: { ok: boolean; detail: string };
  envelopeHref: string;
  recordHref: string;
}

export function timelinePage(
  ctx: PageContext,
  s: ReleaseStatus,
  sigs: TimelineSignature[],
  dossierCheck: { ok: boolean; detail: string } | null,
): Html {
  const rollback = s.history.find((h) => h.stage === 'ROLLED_BACK');
  return layout(
    `Timeline ${s.releaseId}`,
    ctx,
    html`<h1>Audit timeline: <code>${s.releaseId}</code></h1>
<p class="hint">Read-only. Every digest below was re-computed from the evidence store when this page was built.</p>
<dl class="kv"><dt>Stage</dt><dd data-testid="stage">${s.stage}</dd>
${s.outcome ? html`<dt>Outcome</dt><dd data-testid="outcome">${s.outcome}: ${s.reason ?? ''}</dd>` : ''}
<dt>Routes</dt><dd>${s.routes ? html`production ${s.routes.production}${s.routes.canary ? html`, canary ${s.routes.canary.model} at ${s.routes.canary.percent}%` : ''}${s.routes.shadow ? html`, shadow ${s.routes.shadow.model} mirroring ${s.routes.shadow.percent}%` : ''} (v${s.routes.version})` : 'never changed'}</dd>
<dt>Dossier</dt><dd>${s.dossier ? html`<span class="digest">${s.dossier.sha256}</span> ${dossierCheck ? html`<span class="${dossierCheck.ok ? 'ok' : 'bad'}">${dossierCheck.detail}</span>` : ''}` : '—'}</dd>
${rollback ? html`<dt>Rollback</dt><dd class="bad">${s.reason ?? 'rolled back'}</dd>` : ''}
</dl>
<h2>Stages</h2>
<ol class="timeline">${s.history.map(
      (
        h,
      ) => html`<li><strong>${h.stage}${h.step === null ? '' : ` ${h.step}`}</strong> ${verdictBadge(h.decision?.verdict ?? (h.endedAt ? null : undefined))}
<br><span class="hint">started ${when(h.startedAt, ctx.user?.timeZone)}${h.endedAt ? html`, ended ${when(h.endedAt, ctx.user?.timeZone)}` : ''}</span>
${h.decision ? html`<ul>${h.decision.reasons.map((r) => html`<li>${r}</li>`)}</ul>` : ''}
${h.chainEntry ? html`<span class="hint">chain entry <span class="digest">${h.chainEntry}</span></span>` : ''}
${h.artifacts.length ? html`<details><summary>${h.artifacts.length} evidence object(s)</summary><ul>${h.artifacts.map((a) => html`<li><span class="digest">${a.key}</span> (${a.mediaType}, ${a.size} bytes)</li>`)}</ul></details>` : ''}
</li>`,
    )}</ol>
<h2>Signatures</h2>
${
  sigs.length
    ? sigs.map(
        (x) => html`${manifestation(x.record)}
<p data-testid="verification" class="${x.verification.ok ? 'ok' : 'bad'}">${x.verification.ok ? '✔' : '✗'} ${x.verification.detail}
 · <a href="${x.recordHref}">record</a> · <a href="${x.envelopeHref}">DSSE envelope</a></p>`,
      )
    : html`<p>No signatures.</p>`
}
<p class="hint">Verify offline: <code>vigil attest verify envelope.json --key system-key.pem --artifact record.json</code> (<a href="/ui/system-key.pem">system public key</a>).</p>`,
  );
}
