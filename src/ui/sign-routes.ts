/**
 * Signing a release from the web UI. The signer is the session's user, never a form field; the role is checked
 * against the identity; the password is asked again for this signing act (21 CFR 11.200(a)(1)).
 */
import type { Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { meaningRefusal, type Identity } from '../auth';
import { ApprovalInputSchema, RoleSchema, type ApprovalInput, type Role } from '../domain';
import { SignOffRefusal, submitSignature } from '../api/sign-off';
import type { UiDeps, UiEnv } from './deps';
import { str, type UiKit } from './kit';
import { dossierDocument, signFormState } from './release-data';
import { errorPage, releasePage, signedPage } from './views';

export type SignValues = { meaning: string; reason: string; role: string; decision: string };
type Refusal = { status: ContentfulStatusCode; message: string; type?: string };
type Refuse = (status: ContentfulStatusCode, message: string, type?: string) => Promise<Response>;

/** POST /releases/:id/sign. */
export function registerSignRoutes(ui: Hono<UiEnv>, deps: UiDeps, kit: UiKit): void {
  ui.post('/releases/:id/sign', kit.limit, async (c) => {
    const user = c.get('user');
    if (!user) return kit.unauthenticated(c);
    const form = await c.req.parseBody();
    if (!kit.csrfOk(c, form)) return kit.csrfRefused(c);
    return sign(c, deps, kit, user, form);
  });
}

async function sign(
  c: Context<UiEnv>,
  deps: UiDeps,
  kit: UiKit,
  user: Identity,
  form: Record<string, unknown>,
): Promise<Response> {
  const checked = await checkSignForm(c, deps, kit, user, form);
  if (checked instanceof Response) return checked;
  const { releaseId, values, role, refuse } = checked;

  const again = await reauthenticate(c, deps, kit, user, releaseId, str(form.password));
  if ('status' in again) return refuse(again.status, again.message);

  const parsed = approvalInput(again, role, values, str(form.dossierSha256));
  if ('status' in parsed) return refuse(parsed.status, parsed.message);
  return submitAndShow(c, deps, kit, user, releaseId, parsed, refuse);
}

/** A sign form whose role and meaning passed, and how to refuse what comes after. */
export interface CheckedSignForm {
  releaseId: string;
  values: SignValues;
  role: Role;
  refuse: Refuse;
}

/**
 * The sign form's role and meaning, checked before any re-authentication (password or identity provider), so a
 * typo never costs one. A refusal (the release page again, with the reason) is returned as the response.
 */
export async function checkSignForm(
  c: Context<UiEnv>,
  deps: UiDeps,
  kit: UiKit,
  user: Identity,
  form: Record<string, unknown>,
): Promise<CheckedSignForm | Response> {
  const releaseId = c.req.param('id')!;
  const values: SignValues = {
    meaning: str(form.meaning),
    reason: str(form.reason),
    role: str(form.role),
    decision: str(form.decision),
  };
  const refuse = refusalPage(c, deps, kit, user, releaseId, values);

  const role = RoleSchema.safeParse(values.role);
  if (!role.success) return refuse(400, `unknown role "${values.role}"`);
  // The role is checked against the session's identity: holding it is an authorization question (403).
  if (!user.roles.includes(role.data)) return refuse(403, `you (${user.id}) do not hold the role ${role.data}`);

  // The meaning comes from the role's defined list (users file `meanings`), never free text.
  const badMeaning = meaningRefusal(deps.identities, role.data, values.meaning);
  if (badMeaning) return refuse(400, badMeaning);
  return { releaseId, values, role: role.data, refuse };
}

/**
 * Submits a signature whose signer has just re-authenticated, audits it (with `auditDetail`, e.g. the ID token's
 * digest) and shows the signed page; the sign-off path's refusals re-render the form.
 */
export async function submitAndShow(
  c: Context<UiEnv>,
  deps: UiDeps,
  kit: UiKit,
  user: Identity,
  releaseId: string,
  input: ApprovalInput,
  refuse: Refuse,
  auditDetail: Record<string, unknown> = {},
): Promise<Response> {
  try {
    const { record, repeated, pending } = await submitSignature(deps, releaseId, input);
    void kit.audit(c, repeated ? 'signature.duplicate' : 'signature.accepted', user.id, {
      releaseId,
      role: input.role,
      decision: input.decision,
      dossierSha256: input.dossierSha256,
      record: record.evidence.key,
      ...auditDetail,
    });
    return c.html(signedPage(kit.ctxOf(c), releaseId, record, repeated, pending), 200);
  } catch (err) {
    // The shared sign-off path (src/api/sign-off.ts): refusals mapped to statuses as in the JSON API.
    if (err instanceof SignOffRefusal) return refuse(err.status, err.message, err.type);
    throw err;
  }
}

/** A refusal re-renders the release page with the error and the user's values (or an error page if it is gone). */
export function refusalPage(
  c: Context<UiEnv>,
  deps: UiDeps,
  kit: UiKit,
  user: Identity,
  releaseId: string,
  values: SignValues,
): Refuse {
  return async (status, message, type) => {
    void kit.audit(c, 'signature.refused', user.id, {
      releaseId,
      role: values.role,
      status,
      reason: message,
      ...(type ? { errorType: type } : {}),
    });
    const current = await kit.statusOrNull(releaseId);
    if (!current) return c.html(errorPage(kit.ctxOf(c), 'Signature refused', message), status);
    const sign = { ...signFormState(user, current, deps.identities), error: message, values };
    const dossier = await dossierDocument(deps, current);
    return c.html(releasePage(kit.ctxOf(c), { status: current, dossier, sign }), status);
  };
}

/** The password again, for this signing act, even within a session; failures count towards the lock-out. */
async function reauthenticate(
  c: Context<UiEnv>,
  deps: UiDeps,
  kit: UiKit,
  user: Identity,
  releaseId: string,
  password: string,
): Promise<Identity | Refusal> {
  const lockedMs = await deps.throttle.lockedFor(user.id);
  if (lockedMs > 0) {
    void kit.audit(c, 'login.locked', user.id, { releaseId });
    c.header('Retry-After', String(Math.ceil(lockedMs / 1000)));
    return {
      status: 429,
      message: `your account is locked after repeated failed password checks; try again in ${Math.ceil(lockedMs / 60_000)} minute(s)`,
    };
  }
  const again = await deps.identities.authenticate(user.id, password);
  if (!again) {
    const locked = await deps.throttle.fail(user.id);
    void kit.audit(c, 'reauth.failure', user.id, { releaseId, locked });
    return {
      status: 401,
      message: locked
        ? 'wrong password; your account is now locked for a while'
        : 'wrong password: the signature was not submitted',
    };
  }
  await deps.throttle.succeed(user.id);
  void kit.audit(c, 'reauth.success', user.id, { releaseId });
  return again;
}

export function approvalInput(
  signer: Identity,
  role: Role,
  values: SignValues,
  dossierSha256: string,
): ApprovalInput | Refusal {
  const parsed = ApprovalInputSchema.safeParse({
    signer: signer.id,
    printedName: signer.name,
    role,
    decision: values.decision,
    meaning: values.meaning,
    reason: values.reason,
    dossierSha256,
    ...(signer.timeZone ? { timeZone: signer.timeZone } : {}),
  });
  if (parsed.success) return parsed.data;
  return {
    status: 400,
    message: `invalid signature: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
  };
}
