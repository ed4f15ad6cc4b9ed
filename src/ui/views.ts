import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { Identity } from '../auth';
import type { ReleaseStatus, Role, SignatureRecord, StageRecord } from '../domain';

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

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

export function loginPage(opts: { error?: string; next?: string; username?: string; usersConfigured: boolean }): Html {
  return layout(
    'Sign in',
    { user: null, csrf: null },
    html`<h1>Sign in</h1>
${opts.usersConfigured ? '' : html`<p class="alert" role="alert">No users are configured on this server (set VIGIL_USERS_FILE).</p>`}
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
          html`<tr><td><a href="/ui/releases/${encodeURIComponent(r.releaseId)}">${r.releaseId}</a></td><td>${r.model ?? ''}</td><td>${r.candidateVersion}</td><td>${r.submittedBy}</td><td>${r.pendingForMe.join(', ')}</td><td>${r.deadline ?? ''}</td></tr>`,
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
        html`<tr><td><a href="/ui/releases/${encodeURIComponent(r.releaseId)}">${r.releaseId}</a></td><td>${r.stage ?? ''}</td><td>${r.outcome ?? r.status}</td><td>${r.startTime}</td><td><a href="/ui/releases/${encodeURIComponent(r.releaseId)}/timeline">Timeline</a></td></tr>`,
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
  Signed at <time datetime="${s.at}">${s.at}</time> (server time, UTC)<br>
  Reason: ${s.reason}<br>
  <span class="hint">Dossier <span class="digest">${s.dossierSha256}</span>; record <span class="digest">${s.evidence.key}</span></span>
</div>`;
}

function decisionsTable(history: StageRecord[]): Html {
  return html`<div class="scroll"><table><caption class="hint">Stage decisions (executive summary)</caption>
<thead><tr><th scope="col">Stage</th><th scope="col">Step</th><th scope="col">Verdict</th><th scope="col">Reasons</th><th scope="col">Ended</th></tr></thead>
<tbody>${history.map(
    (h) =>
      html`<tr><td>${h.stage}</td><td>${h.step ?? ''}</td><td>${verdictBadge(h.decision?.verdict)}</td><td>${h.decision ? html`<ul>${h.decision.reasons.map((r) => html`<li>${r}</li>`)}</ul>` : ''}</td><td>${h.endedAt ?? ''}</td></tr>`,
  )}</tbody></table></div>`;
}

export interface SignFormState {
  eligibleRoles: Role[];
  /** Why the form is not shown (e.g. "you submitted this release"). */
  blockedReason: string | null;
  error?: string;
  values?: { meaning?: string; reason?: string; role?: string; decision?: string };
}

export interface ReleasePageData {
  status: ReleaseStatus;
  /** The OFFLINE_EVAL report fragment, verified against its digest; or why it is not shown. */
  report: { html: string; key: string } | { error: string } | null;
  sign: SignFormState;
}

export function releasePage(ctx: PageContext, d: ReleasePageData): Html {
  const s = d.status;
  const shadow = s.history.filter((h) => h.stage === 'SHADOW' && h.decision);
  return layout(
    s.releaseId,
    ctx,
    html`<h1>Release <code>${s.releaseId}</code></h1>
<p><a href="/ui/releases/${encodeURIComponent(s.releaseId)}/timeline">Audit timeline</a></p>
<section aria-labelledby="summary-h"><h2 id="summary-h">Summary</h2>
<dl class="kv">
  <dt>Stage</dt><dd data-testid="stage">${s.stage}</dd>
  ${s.outcome ? html`<dt>Outcome</dt><dd data-testid="outcome">${s.outcome}: ${s.reason ?? ''}</dd>` : ''}
  <dt>Model</dt><dd>${s.modelName}</dd>
  <dt>Candidate vs incumbent</dt><dd>${s.candidateVersion} replacing ${s.incumbentVersion}</dd>
  <dt>Submitted by</dt><dd>${s.submittedBy}</dd>
  <dt>Policy</dt><dd>${s.policy.id} ${s.policy.version} <span class="digest">${s.policy.sha256 ?? ''}</span></dd>
  <dt>Required roles</dt><dd>${s.requiredRoles.join(', ')}</dd>
  <dt>Pending roles</dt><dd data-testid="pending">${s.pendingRoles.join(', ') || 'none'}</dd>
  <dt>Sign by</dt><dd>${s.approvalDeadline ?? '—'}</dd>
  <dt>Dossier</dt><dd>${s.dossier ? html`<span class="digest" data-testid="dossier">${s.dossier.sha256}</span>` : 'not built yet'}</dd>
  <dt>Evidence chain head</dt><dd>${s.chainHead ? html`#${s.chainHead.seq} <span class="digest">${s.chainHead.digest}</span>` : '—'}</dd>
</dl></section>
<section aria-labelledby="decisions-h"><h2 id="decisions-h">Decisions</h2>${decisionsTable(s.history)}</section>
<section aria-labelledby="eval-h"><h2 id="eval-h">Offline evaluation</h2>
${
  d.report === null
    ? html`<p>No evaluation report yet.</p>`
    : 'error' in d.report
      ? html`<p class="alert" role="alert">${d.report.error}</p>`
      : html`<p class="hint">From evidence <span class="digest">${d.report.key}</span> (digest verified on read).</p><div class="report">${raw(d.report.html)}</div>`
}
</section>
<section aria-labelledby="shadow-h"><h2 id="shadow-h">Shadow findings</h2>
${shadow.length ? shadow.map((h) => html`<p>${verdictBadge(h.decision!.verdict)}</p><ul>${h.decision!.reasons.map((r) => html`<li>${r}</li>`)}</ul>`) : html`<p>No shadow decision yet.</p>`}
${
  s.shadowAdjudication
    ? html`<p data-testid="adjudication-link"><a href="/ui/releases/${encodeURIComponent(s.releaseId)}/adjudication">Clinical adjudication of disagreements</a>: ${s.shadowAdjudication.adjudicatedCases} of ${s.shadowAdjudication.required} required cases adjudicated (${s.shadowAdjudication.open ? `open until ${s.shadowAdjudication.deadline}` : 'closed'}).</p>`
    : ''
}
</section>
<section aria-labelledby="sigs-h"><h2 id="sigs-h">Signatures</h2>
${s.signatures.length ? s.signatures.map(manifestation) : html`<p>No signatures yet.</p>`}
</section>
${signForm(ctx, s, d.sign)}`,
  );
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
<p>Your signature is bound to dossier <span class="digest">${s.dossier.sha256}</span>. Signing requires your password again (21 CFR 11.200).</p>
<form class="stack" method="post" action="/ui/releases/${encodeURIComponent(s.releaseId)}/sign">
  <input type="hidden" name="_csrf" value="${ctx.csrf ?? ''}">
  <input type="hidden" name="dossierSha256" value="${s.dossier.sha256}">
  <div><label for="role">Role you sign for</label>
    <select id="role" name="role" required>${f.eligibleRoles.map((r) => html`<option value="${r}" ${v.role === r ? 'selected' : ''}>${r}</option>`)}</select></div>
  <fieldset><legend>Decision</legend>
    <label><input type="radio" name="decision" value="approve" ${v.decision === 'reject' ? '' : 'checked'}> Approve</label>
    <label><input type="radio" name="decision" value="reject" ${v.decision === 'reject' ? 'checked' : ''}> Reject (ends the release)</label>
  </fieldset>
  <div><label for="meaning">Meaning of this signature <span class="hint">(e.g. "approved for canary release as QA reviewer")</span></label>
    <input type="text" id="meaning" name="meaning" required minlength="3" maxlength="200" value="${v.meaning ?? ''}"></div>
  <div><label for="reason">Reason</label><textarea id="reason" name="reason" required maxlength="2000" rows="3">${v.reason ?? ''}</textarea></div>
  <div><label for="sign-password">Your password <span class="hint">(re-authentication)</span></label>
    <input type="password" id="sign-password" name="password" autocomplete="current-password" required></div>
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
<br><span class="hint">started <time datetime="${h.startedAt}">${h.startedAt}</time>${h.endedAt ? html`, ended <time datetime="${h.endedAt}">${h.endedAt}</time>` : ''}</span>
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
