/**
 * POST /api/releases/:id/signatures — the headless e-signature (`vigil approve`).
 *
 * The signer authenticates with user id and password in the body, against the same IdentityProvider, lockout,
 * rate limit and auth audit log as the web UI; the signer id and printed name come from that identity, never from
 * the body (21 CFR 11.200(a): both signature components at each signing). The Update and its idempotency are the
 * UI's (src/api/sign-off.ts).
 */
import type { Context } from 'hono';
import { z } from 'zod';
import {
  meaningRefusal,
  type AuthAuditLog,
  type AuthEventType,
  type Identity,
  type IdentityProvider,
  type LoginThrottle,
} from '../auth';
import {
  ApprovalInputSchema,
  CanaryDecisionInputSchema,
  RoleSchema,
  WithdrawalInputSchema,
  type SignerAuthentication,
} from '../domain';
import type { IdTokenVerifier } from '../auth/oidc';
import type { Logger } from '../logging/logger';
import { idTokenPerson } from './acting-person';
import { ApiError, fieldIssues } from './errors';
import { SignOffRefusal, submitCanaryDecision, submitSignature, submitWithdrawal } from './sign-off';
import type { TemporalPort } from './temporal-port';

export interface SignatureRouteDeps {
  client: TemporalPort;
  log: Logger;
  identities: IdentityProvider;
  /** False when no users file is configured: the route answers 503 instead of refusing every password. */
  usersConfigured?: boolean;
  /** Under OIDC (docs/sso.md): acts carry an ID token from a fresh authentication instead of a password. */
  idTokens?: IdTokenVerifier;
  /** Shared with the web UI: a lockout earned in one applies in the other. */
  throttle: LoginThrottle;
  audit: AuthAuditLog;
  clientAddress?: (c: Context) => string;
  duplicateWaitMs?: number;
}

/** What a signer sends. `signer` / `printedName` are refused: they come from the account. */
export const SignatureRequestSchema = z
  .object({
    username: z.string().min(1).max(128),
    password: z.string().min(1).max(1024),
    role: RoleSchema,
    decision: z.enum(['approve', 'reject']),
    meaning: z.string().min(3).max(200),
    reason: z.string().min(1).max(2000),
    dossierSha256: ApprovalInputSchema.shape.dossierSha256,
  })
  .strict();
export type SignatureRequest = z.infer<typeof SignatureRequestSchema>;

/** What a signer sends to withdraw their approval. `signer` is refused: it comes from the account. */
export const WithdrawalRequestSchema = z
  .object({
    username: z.string().min(1).max(128),
    password: z.string().min(1).max(1024),
    reason: WithdrawalInputSchema.shape.reason,
  })
  .strict();
export type WithdrawalRequest = z.infer<typeof WithdrawalRequestSchema>;

/** A person's decision on a held canary (`vigil canary resume|rollback`). `signer` is refused: it comes from the account. */
export const CanaryDecisionRequestSchema = z
  .object({
    username: z.string().min(1).max(128),
    password: z.string().min(1).max(1024),
    role: RoleSchema,
    decision: CanaryDecisionInputSchema.shape.decision,
    reason: CanaryDecisionInputSchema.shape.reason,
  })
  .strict();
export type CanaryDecisionRequest = z.infer<typeof CanaryDecisionRequestSchema>;

type Audit = (type: AuthEventType, user: string | null, detail?: Record<string, unknown>) => Promise<void>;

export function auditFor(deps: SignatureRouteDeps, c: Context, releaseId: string): Audit {
  const addr = deps.clientAddress ?? (() => 'unknown');
  return (type, user, detail = {}) =>
    deps.audit
      .record({ type, user, ip: addr(c), channel: 'api', releaseId, ...detail })
      .catch((err: unknown) => deps.log.error({ err }, 'auth audit log write failed'));
}

/** Parse a body that carries a password: issues name fields, never values. */
export function parseCredentialed<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issues = fieldIssues(
      parsed.error.issues.map((i) =>
        i.code === 'unrecognized_keys'
          ? { ...i, message: `${i.message}: the signer's id and printed name come from the account` }
          : i,
      ),
    );
    throw new ApiError(400, `invalid ${what}`, { issues });
  }
  return parsed.data;
}

/**
 * Re-authentication for one signing act (21 CFR 11.200(a)(1)): both components, every time, under the shared
 * rate limit, lockout and audit log. Returns the account; throws ApiError 401/429 otherwise.
 */
export async function reauthenticate(
  deps: SignatureRouteDeps,
  c: Context,
  audit: Audit,
  user: string,
  password: string,
): Promise<Identity> {
  const addr = deps.clientAddress ?? (() => 'unknown');
  // Only failed checks count towards the address limit: a person signing many releases is not guessing.
  if (!(await deps.throttle.underLimit(addr(c)))) {
    void audit('login.rate_limited', user);
    c.header('Retry-After', '300');
    throw new ApiError(429, 'too many sign-in attempts from your address; wait a few minutes and try again');
  }
  const lockedMs = await deps.throttle.lockedFor(user);
  if (lockedMs > 0) {
    void audit('login.locked', user);
    c.header('Retry-After', String(Math.ceil(lockedMs / 1000)));
    throw new ApiError(
      429,
      `the account is locked after repeated failed password checks; try again in ${Math.ceil(lockedMs / 60_000)} minute(s)`,
    );
  }
  const identity = await deps.identities.authenticate(user, password);
  if (!identity) {
    await deps.throttle.countAttempt(addr(c));
    const locked = await deps.throttle.fail(user);
    void audit('reauth.failure', user, { locked });
    throw new ApiError(
      401,
      locked
        ? 'unknown user id or wrong password; the account is now locked for a while'
        : 'unknown user id or wrong password: the signature was not submitted',
    );
  }
  await deps.throttle.succeed(user);
  void audit('reauth.success', identity.id);
  return identity;
}

/**
 * The person acting, re-authenticated for this act: user id + password (users file), or under OIDC an ID token
 * from a fresh sign-in at the provider (./acting-person.ts), whose authentication the record then carries.
 */
export async function actingPerson<T extends { username: string; password: string }>(
  deps: SignatureRouteDeps,
  c: Context,
  audit: Audit,
  schema: z.ZodObject<z.ZodRawShape> & z.ZodType<T>,
  body: unknown,
  what: string,
): Promise<{ req: Omit<T, 'username' | 'password'>; identity: Identity; authentication?: SignerAuthentication }> {
  if (deps.idTokens) return idTokenPerson(deps.idTokens, audit, schema, body, what);
  const req = parseCredentialed(schema, body, what);
  return { req, identity: await reauthenticate(deps, c, audit, req.username, req.password) };
}

export function signatureHandler(deps: SignatureRouteDeps) {
  return async (c: Context, body: unknown): Promise<Response> => {
    const releaseId = c.req.param('id')!;
    const audit = auditFor(deps, c, releaseId);

    if (deps.usersConfigured === false)
      throw new ApiError(503, 'signing is not configured on this server (no users file: set VIGIL_USERS_FILE)');
    const { req, identity, authentication } = await actingPerson(
      deps,
      c,
      audit,
      SignatureRequestSchema,
      body,
      'signature',
    );

    const refuse = (status: 403 | 400, message: string, type?: string): never => {
      void audit('signature.refused', identity.id, {
        role: req.role,
        status,
        reason: message,
        ...(type ? { errorType: type } : {}),
      });
      throw new ApiError(status, message, type ? { type } : {});
    };
    if (!(identity.roles as string[]).includes(req.role))
      refuse(403, `${identity.id} does not hold the role ${req.role}`);
    // The meaning comes from the role's defined list (users file `meanings`), never free text.
    const badMeaning = meaningRefusal(deps.identities, req.role, req.meaning);
    if (badMeaning) refuse(400, badMeaning);

    const input = ApprovalInputSchema.safeParse({
      signer: identity.id,
      printedName: identity.name,
      role: req.role,
      decision: req.decision,
      meaning: req.meaning,
      reason: req.reason,
      dossierSha256: req.dossierSha256,
      ...(identity.timeZone ? { timeZone: identity.timeZone } : {}),
      ...(authentication ? { authentication } : {}),
    });
    if (!input.success)
      return refuse(
        400,
        `invalid signature: ${input.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );

    try {
      const { record, repeated, pending } = await submitSignature(deps, releaseId, input.data);
      void audit(repeated ? 'signature.duplicate' : 'signature.accepted', identity.id, {
        role: input.data.role,
        decision: input.data.decision,
        dossierSha256: input.data.dossierSha256,
        record: record.evidence.key,
      });
      deps.log.info(
        { releaseId, signer: identity.id, role: record.role, decision: record.decision, repeated },
        'signature accepted',
      );
      return c.json(
        {
          releaseId,
          accepted: true,
          repeated,
          signatureKey: record.evidence.key,
          pendingRoles: pending,
          signature: record,
        },
        repeated ? 200 : 201,
      );
    } catch (err) {
      if (err instanceof SignOffRefusal) {
        void audit('signature.refused', identity.id, {
          role: req.role,
          status: err.status,
          reason: err.message,
          ...(err.type ? { errorType: err.type } : {}),
        });
        throw new ApiError(err.status, err.message, err.type ? { type: err.type } : {});
      }
      throw err;
    }
  };
}

/**
 * POST /api/releases/:id/signatures/withdraw — the signer withdraws their own approval (`vigil withdraw`), with the
 * same re-authentication as signing; the signer is the account, never the body.
 */
export function withdrawalHandler(deps: SignatureRouteDeps) {
  return async (c: Context, body: unknown): Promise<Response> => {
    const releaseId = c.req.param('id')!;
    const audit = auditFor(deps, c, releaseId);

    if (deps.usersConfigured === false)
      throw new ApiError(503, 'signing is not configured on this server (no users file: set VIGIL_USERS_FILE)');
    const { req, identity, authentication } = await actingPerson(
      deps,
      c,
      audit,
      WithdrawalRequestSchema,
      body,
      'withdrawal',
    );
    try {
      const result = await submitWithdrawal(deps, releaseId, {
        signer: identity.id,
        reason: req.reason,
        ...(authentication ? { authentication } : {}),
      });
      void audit('withdrawal.accepted', identity.id, { signature: result.signatureKey, record: result.withdrawalKey });
      deps.log.info({ releaseId, signer: identity.id }, 'signature withdrawn');
      return c.json(result, 201);
    } catch (err) {
      if (err instanceof SignOffRefusal) {
        void audit('withdrawal.refused', identity.id, {
          status: err.status,
          reason: err.message,
          ...(err.type ? { errorType: err.type } : {}),
        });
        throw new ApiError(err.status, err.message, err.type ? { type: err.type } : {});
      }
      throw err;
    }
  };
}

/**
 * POST /api/releases/:id/canary-decision — resume or roll back a held canary (pause step or escalated guardrail
 * failure), with the same re-authentication as signing; the decider is the account, never the body.
 */
export function canaryDecisionHandler(deps: SignatureRouteDeps) {
  return async (c: Context, body: unknown): Promise<Response> => {
    const releaseId = c.req.param('id')!;
    const audit = auditFor(deps, c, releaseId);

    if (deps.usersConfigured === false)
      throw new ApiError(503, 'signing is not configured on this server (no users file: set VIGIL_USERS_FILE)');
    const { req, identity, authentication } = await actingPerson(
      deps,
      c,
      audit,
      CanaryDecisionRequestSchema,
      body,
      'canary decision',
    );
    if (!(identity.roles as string[]).includes(req.role)) {
      void audit('canary-decision.refused', identity.id, { role: req.role, status: 403 });
      throw new ApiError(403, `${identity.id} does not hold the role ${req.role}`);
    }
    try {
      const result = await submitCanaryDecision(deps, releaseId, {
        signer: identity.id,
        printedName: identity.name,
        role: req.role,
        decision: req.decision,
        reason: req.reason,
        ...(authentication ? { authentication } : {}),
      });
      void audit('canary-decision.accepted', identity.id, {
        role: req.role,
        decision: req.decision,
        record: result.record,
      });
      deps.log.info({ releaseId, decider: identity.id, decision: req.decision }, 'canary decision accepted');
      return c.json(result, 201);
    } catch (err) {
      if (err instanceof SignOffRefusal) {
        void audit('canary-decision.refused', identity.id, {
          status: err.status,
          reason: err.message,
          ...(err.type ? { errorType: err.type } : {}),
        });
        throw new ApiError(err.status, err.message, err.type ? { type: err.type } : {});
      }
      throw err;
    }
  };
}
