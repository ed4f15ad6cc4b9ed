import { WorkflowNotFoundError } from '@temporalio/client';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { EvidencePort } from '../activities/deps';
import { signatureEnvelopeKey } from '../activities/records';
import { verifyAttestation, VIGIL_APPROVAL_V1, type Verifier } from '../attestation';
import type {
  AuthAuditLog,
  AuthEventType,
  Identity,
  IdentityProvider,
  LoginThrottle,
  Session,
  SessionStore,
} from '../auth';
import { tokensEqual } from '../auth/sessions';
import {
  ApprovalInputSchema,
  RoleSchema,
  type ApprovalInput,
  type ReleaseStatus,
  type Role,
  type SignatureRecord,
} from '../domain';
import { releaseStatusQuery, SearchAttr } from '../domain/messages';
import type { Logger } from '../logging/logger';
import type { TemporalPort } from '../api/temporal-port';
import { SignOffRefusal, submitSignature, type SubmittedSignature } from '../api/sign-off';
import { registerAdjudicationRoutes } from './adjudication';
import { APP_CSS } from './style';
import {
  errorPage,
  inboxPage,
  loginPage,
  releasePage,
  releasesPage,
  signedPage,
  timelinePage,
  type InboxRow,
  type PageContext,
  type SignFormState,
  type TimelineSignature,
} from './views';

export interface UiDeps {
  client: TemporalPort;
  evidence: Pick<EvidencePort, 'getBytes'>;
  identities: IdentityProvider;
  /** False when no users file is configured: the login page says so. */
  usersConfigured: boolean;
  sessions: SessionStore;
  throttle: LoginThrottle;
  audit: AuthAuditLog;
  /** The system key(s) that seal signature records; the timeline verifies envelopes against them. */
  verifiers: Verifier[];
  systemKeyPem: string | null;
  /** Behind TLS: Secure cookies with the __Host- prefix. */
  secureCookies: boolean;
  log: Logger;
  /** The client's address for rate limiting and the audit log (the Node adapter's socket address). */
  clientAddress?: (c: Context) => string;
  /** How long a repeated submission waits for a concurrent identical one to land (idempotency). */
  duplicateWaitMs?: number;
}

type Env = { Variables: { session: Session | null; user: Identity | null } };

const UI_MAX_BODY = 64 * 1024;
const LIST_LIMIT = 100;
const SIGNING_ROLES = RoleSchema.options;

class UiRefusal extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly type?: string,
  ) {
    super(message);
  }
}

/**
 * The sign-off web UI, server-rendered (hono/html), no client-side script at all. Mounted at /ui.
 * The signer of every signature is the session's user, never a form field; signing re-checks the password.
 */
export function createUiRoutes(deps: UiDeps): Hono<Env> {
  const ui = new Hono<Env>();
  const cookieName = deps.secureCookies ? '__Host-vigil_session' : 'vigil_session';
  const addr = deps.clientAddress ?? (() => 'unknown');
  const audit = (
    c: Context,
    type: AuthEventType,
    user: string | null,
    detail: Record<string, unknown> = {},
  ): Promise<void> =>
    deps.audit
      .record({ type, user, ip: addr(c), ...detail })
      .catch((err: unknown) => deps.log.error({ err }, 'auth audit log write failed'));

  ui.use('*', async (c, next) => {
    await next();
    c.header(
      'Content-Security-Policy',
      "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    c.header('X-Content-Type-Options', 'nosniff');
    // same-origin, not no-referrer: under no-referrer Chromium sends "Origin: null" on form POSTs, which the origin check refuses.
    c.header('Referrer-Policy', 'same-origin');
    c.header('X-Frame-Options', 'DENY');
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
  });

  ui.use('*', async (c, next) => {
    const { session, expired } = deps.sessions.get(getCookie(c, cookieName));
    if (expired) void audit(c, 'session.expired', null);
    const user = session ? deps.identities.lookup(session.userId) : null;
    if (session && !user) deps.sessions.destroy(session.id);
    c.set('session', user ? session : null);
    c.set('user', user);
    await next();
  });

  ui.use('*', async (c, next) => {
    if (c.req.method !== 'POST') return next();
    // Defence in depth beside SameSite=Strict and the CSRF token: a cross-site browser POST is refused outright.
    const origin = c.req.header('origin');
    const site = c.req.header('sec-fetch-site');
    const host = c.req.header('host');
    const crossOrigin = origin !== undefined && (origin === 'null' || safeHost(origin) !== host);
    if (crossOrigin || site === 'cross-site') {
      void audit(c, 'csrf.rejected', c.get('user')?.id ?? null, { path: c.req.path, origin: origin ?? null });
      return c.html(errorPage(ctxOf(c), 'Request refused', 'cross-site request refused'), 403);
    }
    return next();
  });

  const limit = bodyLimit({ maxSize: UI_MAX_BODY, onError: (c) => c.text('request body too large', 413) });

  const ctxOf = (c: Context<Env>): PageContext => ({ user: c.get('user'), csrf: c.get('session')?.csrfToken ?? null });
  const unauthenticated = (c: Context<Env>) =>
    c.html(
      loginPage({
        next: c.req.method === 'GET' ? c.req.path : '/ui/inbox',
        usersConfigured: deps.usersConfigured,
        error: 'Please sign in.',
      }),
      401,
    );

  /** The session's CSRF token must come back in the form; compared in constant time. */
  const csrfOk = (c: Context<Env>, form: Record<string, unknown>): boolean => {
    const s = c.get('session');
    return s !== null && typeof form._csrf === 'string' && tokensEqual(form._csrf, s.csrfToken);
  };
  const csrfRefused = (c: Context<Env>) => {
    void audit(c, 'csrf.rejected', c.get('user')?.id ?? null, { path: c.req.path });
    return c.html(
      errorPage(ctxOf(c), 'Request refused', 'missing or invalid CSRF token; reload the page and try again'),
      403,
    );
  };

  ui.get('/assets/app.css', (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    return c.body(APP_CSS, 200, { 'Content-Type': 'text/css; charset=utf-8' });
  });

  ui.get('/system-key.pem', (c) => {
    if (!deps.systemKeyPem) return c.text('no system key configured', 404);
    return c.body(deps.systemKeyPem, 200, { 'Content-Type': 'application/x-pem-file' });
  });

  // The UI's entry points all lead to the inbox (which asks for a login first).
  ui.get('/', (c) => c.redirect('/ui/inbox', 303));

  ui.get('/login', (c) => {
    if (c.get('user')) return c.redirect('/ui/inbox', 303);
    return c.html(loginPage({ next: safeNext(c.req.query('next')), usersConfigured: deps.usersConfigured }));
  });

  ui.post('/login', limit, async (c) => {
    const form = await c.req.parseBody();
    const username = str(form.username).trim();
    const password = str(form.password);
    const next = safeNext(str(form.next));
    const page = (error: string, status: ContentfulStatusCode) =>
      c.html(loginPage({ error, next, username, usersConfigured: deps.usersConfigured }), status);
    if (!deps.throttle.allowAttempt(addr(c))) {
      void audit(c, 'login.rate_limited', username || null);
      c.header('Retry-After', '300');
      return page('Too many sign-in attempts from your address. Wait a few minutes and try again.', 429);
    }
    const lockedMs = deps.throttle.lockedFor(username);
    if (lockedMs > 0) {
      void audit(c, 'login.locked', username || null);
      c.header('Retry-After', String(Math.ceil(lockedMs / 1000)));
      return page(
        `This account is locked after repeated failed sign-ins. Try again in ${Math.ceil(lockedMs / 60_000)} minute(s).`,
        429,
      );
    }
    const identity = username && password ? await deps.identities.authenticate(username, password) : null;
    if (!identity) {
      const locked = deps.throttle.fail(username);
      void audit(c, 'login.failure', username || null, { locked });
      return page(
        locked
          ? 'Unknown user id or wrong password. The account is now locked for a while.'
          : 'Unknown user id or wrong password.',
        401,
      );
    }
    deps.throttle.succeed(username);
    const old = c.get('session');
    if (old) deps.sessions.destroy(old.id);
    const session = deps.sessions.create(identity);
    setCookie(c, cookieName, session.id, { httpOnly: true, sameSite: 'Strict', secure: deps.secureCookies, path: '/' });
    void audit(c, 'login.success', identity.id);
    return c.redirect(next, 303);
  });

  ui.post('/logout', limit, async (c) => {
    const form = await c.req.parseBody();
    const session = c.get('session');
    if (!session) return c.redirect('/ui/login', 303);
    if (!csrfOk(c, form)) return csrfRefused(c);
    deps.sessions.destroy(session.id);
    deleteCookie(c, cookieName, { path: '/', secure: deps.secureCookies });
    void audit(c, 'logout', session.userId);
    return c.redirect('/ui/login', 303);
  });

  ui.get('/inbox', async (c) => {
    const user = c.get('user');
    if (!user) return unauthenticated(c);
    const rows: InboxRow[] = [];
    const query = `WorkflowType = 'releaseLifecycle' AND ExecutionStatus = 'Running' AND ${SearchAttr.stage.name} = 'AWAITING_APPROVAL'`;
    for await (const wf of deps.client.workflow.list({ query, pageSize: LIST_LIMIT })) {
      const status = await statusOrNull(wf.workflowId);
      if (!status || status.stage !== 'AWAITING_APPROVAL') continue;
      const mine = eligibleRoles(user, status);
      if (mine.length === 0 || status.submittedBy === user.id || status.signatures.some((s) => s.signer === user.id))
        continue;
      rows.push({
        releaseId: status.releaseId,
        model: status.modelName,
        candidateVersion: status.candidateVersion,
        submittedBy: status.submittedBy,
        pendingForMe: mine,
        deadline: status.approvalDeadline,
      });
      if (rows.length >= LIST_LIMIT) break;
    }
    return c.html(inboxPage(ctxOf(c), rows));
  });

  ui.get('/releases', async (c) => {
    if (!c.get('user')) return unauthenticated(c);
    const rows = [];
    for await (const wf of deps.client.workflow.list({
      query: "WorkflowType = 'releaseLifecycle'",
      pageSize: LIST_LIMIT,
    })) {
      rows.push({
        releaseId: wf.workflowId,
        status: wf.status.name,
        stage: wf.typedSearchAttributes.get(SearchAttr.stage) ?? null,
        outcome: wf.typedSearchAttributes.get(SearchAttr.outcome) ?? null,
        startTime: wf.startTime.toISOString(),
      });
      if (rows.length >= LIST_LIMIT) break;
    }
    return c.html(releasesPage(ctxOf(c), rows));
  });

  ui.get('/releases/:id', async (c) => {
    const user = c.get('user');
    if (!user) return unauthenticated(c);
    const status = await statusOr404(c.req.param('id'));
    return c.html(
      releasePage(ctxOf(c), { status, report: await evaluationReport(status), sign: signFormState(user, status) }),
    );
  });

  ui.post('/releases/:id/sign', limit, async (c) => {
    const user = c.get('user');
    if (!user) return unauthenticated(c);
    const form = await c.req.parseBody();
    if (!csrfOk(c, form)) return csrfRefused(c);
    const releaseId = c.req.param('id');
    const values = {
      meaning: str(form.meaning),
      reason: str(form.reason),
      role: str(form.role),
      decision: str(form.decision),
    };
    const refuse = async (status: ContentfulStatusCode, message: string, type?: string) => {
      void audit(c, 'signature.refused', user.id, {
        releaseId,
        role: values.role,
        status,
        reason: message,
        ...(type ? { errorType: type } : {}),
      });
      const current = await statusOrNull(releaseId);
      if (!current) return c.html(errorPage(ctxOf(c), 'Signature refused', message), status);
      const sign = { ...signFormState(user, current), error: message, values };
      return c.html(releasePage(ctxOf(c), { status: current, report: await evaluationReport(current), sign }), status);
    };

    const role = RoleSchema.safeParse(values.role);
    if (!role.success) return refuse(400, `unknown role "${values.role}"`);
    // The role is checked against the session's identity: holding it is an authorization question (403).
    if (!user.roles.includes(role.data)) return refuse(403, `you (${user.id}) do not hold the role ${role.data}`);

    const lockedMs = deps.throttle.lockedFor(user.id);
    if (lockedMs > 0) {
      void audit(c, 'login.locked', user.id, { releaseId });
      c.header('Retry-After', String(Math.ceil(lockedMs / 1000)));
      return refuse(
        429,
        `your account is locked after repeated failed password checks; try again in ${Math.ceil(lockedMs / 60_000)} minute(s)`,
      );
    }
    // Re-authentication (21 CFR 11.200(a)(1)): the password again, for this signing act, even within a session.
    const again = await deps.identities.authenticate(user.id, str(form.password));
    if (!again) {
      const locked = deps.throttle.fail(user.id);
      void audit(c, 'reauth.failure', user.id, { releaseId, locked });
      return refuse(
        401,
        locked
          ? 'wrong password; your account is now locked for a while'
          : 'wrong password: the signature was not submitted',
      );
    }
    deps.throttle.succeed(user.id);
    void audit(c, 'reauth.success', user.id, { releaseId });

    const parsed = ApprovalInputSchema.safeParse({
      signer: again.id,
      printedName: again.name,
      role: role.data,
      decision: values.decision,
      meaning: values.meaning,
      reason: values.reason,
      dossierSha256: str(form.dossierSha256),
    });
    if (!parsed.success) {
      return refuse(
        400,
        `invalid signature: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    }
    const input = parsed.data;

    try {
      const { record, repeated, pending } = await submitIdempotently(releaseId, input);
      void audit(c, repeated ? 'signature.duplicate' : 'signature.accepted', user.id, {
        releaseId,
        role: input.role,
        decision: input.decision,
        dossierSha256: input.dossierSha256,
        record: record.evidence.key,
      });
      return c.html(signedPage(ctxOf(c), releaseId, record, repeated, pending), 200);
    } catch (err) {
      if (err instanceof UiRefusal) return refuse(err.status, err.message, err.type);
      throw err;
    }
  });

  ui.get('/releases/:id/timeline', async (c) => {
    if (!c.get('user')) return unauthenticated(c);
    const status = await statusOr404(c.req.param('id'));
    const sigs: TimelineSignature[] = [];
    for (const record of status.signatures) {
      const base = `/ui/releases/${encodeURIComponent(status.releaseId)}/signatures/${record.evidence.sha256}`;
      sigs.push({
        record,
        verification: await verifySignature(status.releaseId, record),
        recordHref: `${base}/record`,
        envelopeHref: `${base}/envelope`,
      });
    }
    let dossierCheck: { ok: boolean; detail: string } | null = null;
    if (status.dossier) {
      try {
        await deps.evidence.getBytes(status.dossier.key, status.dossier.sha256);
        dossierCheck = { ok: true, detail: '✔ digest verified' };
      } catch (err) {
        dossierCheck = { ok: false, detail: `✗ ${(err as Error).message}` };
      }
    }
    return c.html(timelinePage(ctxOf(c), status, sigs, dossierCheck));
  });

  ui.get('/releases/:id/signatures/:sha/:what{record|envelope}', async (c) => {
    if (!c.get('user')) return unauthenticated(c);
    const status = await statusOr404(c.req.param('id'));
    const record = status.signatures.find((s) => s.evidence.sha256 === c.req.param('sha'));
    if (!record) return c.html(errorPage(ctxOf(c), 'Not found', 'no such signature on this release'), 404);
    const bytes =
      c.req.param('what') === 'record'
        ? await deps.evidence.getBytes(record.evidence.key, record.evidence.sha256)
        : await deps.evidence.getBytes(signatureEnvelopeKey(status.releaseId, record.evidence.sha256));
    const name = `${status.releaseId}-${record.role}-${c.req.param('what')}.json`;
    return c.body(Buffer.from(bytes).toString('utf8'), 200, {
      'Content-Type': 'application/json',
      'Content-Disposition': `attachment; filename="${name}"`,
    });
  });

  // Clinical adjudication of shadow disagreements (./adjudication.ts).
  registerAdjudicationRoutes(ui, deps, { ctxOf, csrfOk, csrfRefused, unauthenticated, statusOr404, limit });

  ui.notFound((c) => c.html(errorPage(ctxOf(c), 'Not found', `no page at ${c.req.path}`), 404));

  // ---- helpers with access to deps -------------------------------------------------------------------

  async function statusOrNull(releaseId: string): Promise<ReleaseStatus | null> {
    try {
      return await deps.client.workflow.getHandle(releaseId).query(releaseStatusQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      deps.log.warn({ releaseId, err: String(err) }, 'ui: release status query failed');
      return null;
    }
  }

  async function statusOr404(releaseId: string): Promise<ReleaseStatus> {
    try {
      return await deps.client.workflow.getHandle(releaseId).query(releaseStatusQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new UiPageError(404, 'Not found', `no release ${releaseId}`);
      throw new UiPageError(
        503,
        'Unavailable',
        `status of release ${releaseId} is unavailable right now (is a Vigil worker running?)`,
      );
    }
  }

  /** The OFFLINE_EVAL report fragment, read back through the evidence store (which re-hashes it). */
  async function evaluationReport(status: ReleaseStatus): Promise<ReleasePageData['report']> {
    const stage = [...status.history].reverse().find((h) => h.stage === 'OFFLINE_EVAL' && h.decision);
    const ref = stage?.artifacts.find((a) => a.mediaType.startsWith('text/html'));
    if (!ref) return null;
    try {
      return { html: Buffer.from(await deps.evidence.getBytes(ref.key, ref.sha256)).toString('utf8'), key: ref.key };
    } catch (err) {
      deps.log.warn({ key: ref.key, err: String(err) }, 'ui: evaluation report unreadable');
      return {
        error: `The evaluation report ${ref.key} could not be read or failed its digest check: ${(err as Error).message}`,
      };
    }
  }

  /** The shared sign-off path (src/api/sign-off.ts): idempotent, refusals mapped to statuses as in the JSON API. */
  async function submitIdempotently(releaseId: string, input: ApprovalInput): Promise<SubmittedSignature> {
    try {
      return await submitSignature(deps, releaseId, input);
    } catch (err) {
      if (err instanceof SignOffRefusal) throw new UiRefusal(err.status, err.message, err.type);
      throw err;
    }
  }

  /** Record digest re-hashed, then the system's DSSE envelope over it verified and compared with the record. */
  async function verifySignature(releaseId: string, record: SignatureRecord): Promise<{ ok: boolean; detail: string }> {
    let recordJson: Record<string, unknown>;
    try {
      recordJson = JSON.parse(
        Buffer.from(await deps.evidence.getBytes(record.evidence.key, record.evidence.sha256)).toString('utf8'),
      ) as Record<string, unknown>;
    } catch (err) {
      return { ok: false, detail: `signature record failed its digest check: ${(err as Error).message}` };
    }
    let envelope: unknown;
    try {
      envelope = JSON.parse(
        Buffer.from(await deps.evidence.getBytes(signatureEnvelopeKey(releaseId, record.evidence.sha256))).toString(
          'utf8',
        ),
      );
    } catch (err) {
      return { ok: false, detail: `no readable DSSE envelope for this record: ${(err as Error).message}` };
    }
    const v = await verifyAttestation(envelope, deps.verifiers, {
      predicateType: VIGIL_APPROVAL_V1,
      subjectSha256: record.evidence.sha256,
    });
    if (!v.ok) return { ok: false, detail: `DSSE envelope does not verify: ${v.reasons.join('; ')}` };
    const p = v.statement!.predicate as {
      approver?: { id?: string; role?: string };
      decision?: string;
      meaning?: string;
    };
    if (
      p.approver?.id !== recordJson.signer ||
      p.approver?.role !== recordJson.role ||
      p.decision !== recordJson.decision ||
      p.meaning !== recordJson.meaning
    ) {
      return { ok: false, detail: 'DSSE envelope verifies but does not match the record' };
    }
    return { ok: true, detail: `record digest verified; sealed by system key ${v.acceptedKeyIds[0]!.slice(0, 16)}…` };
  }

  ui.onError((err, c) => {
    if (err instanceof UiPageError) return c.html(errorPage(ctxOf(c), err.title, err.message), err.status);
    deps.log.error({ err, path: c.req.path }, 'ui request failed');
    return c.html(
      errorPage(ctxOf(c), 'Something went wrong', 'internal error; the details are in the server log'),
      500,
    );
  });

  return ui;
}

type ReleasePageData = Parameters<typeof releasePage>[1];

class UiPageError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

function eligibleRoles(user: Identity, status: ReleaseStatus): Role[] {
  return status.pendingRoles.filter((r) => (user.roles as string[]).includes(r));
}

function signFormState(user: Identity, status: ReleaseStatus): SignFormState {
  const mine = eligibleRoles(user, status);
  const signingRoles = user.roles.filter((r): r is Role => (SIGNING_ROLES as readonly string[]).includes(r));
  let blockedReason: string | null = null;
  if (status.submittedBy === user.id)
    blockedReason = 'You submitted this release: separation of duties forbids you to sign it.';
  else if (status.signatures.some((s) => s.signer === user.id)) blockedReason = 'You have already signed this release.';
  else if (signingRoles.length === 0) blockedReason = 'Your account has no signing role (read-only access).';
  else if (mine.length === 0)
    blockedReason = `None of your roles (${signingRoles.join(', ')}) is pending on this release.`;
  return { eligibleRoles: mine, blockedReason };
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** Only same-site UI paths may be redirect targets after login (no open redirect). */
function safeNext(next: string | undefined): string {
  if (!next || !next.startsWith('/ui/') || next.startsWith('//') || next.includes('\\')) return '/ui/inbox';
  return next;
}

function safeHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}
