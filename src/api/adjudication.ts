/**
 * Adjudication of shadow disagreements as the `adjudicateCase` Update, shared by the web UI
 * (src/ui/adjudication.ts, session-authenticated) and POST /api/releases/:id/adjudications (user id and password in
 * the body, re-checked like a signature). The reviewer and printed name always come from the account.
 */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import type { Identity } from '../auth';
import {
  AdjudicationInputSchema,
  ADJUDICATOR_ROLES,
  ErrorType,
  type AdjudicationInput,
  type AdjudicationResult,
} from '../domain';
import { adjudicateCaseUpdate } from '../domain/messages';
import type { Logger } from '../logging/logger';
import { ApiError } from './errors';
import { actingPerson, auditFor, type SignatureRouteDeps } from './esignature-routes';
import type { TemporalPort } from './temporal-port';
import { UpdateRefusal, updateRefusal } from './update-refusal';

/** How each refusal of the adjudicateCase validator reads over HTTP. */
export const ADJUDICATION_REFUSAL_STATUS: Record<string, ContentfulStatusCode> = {
  [ErrorType.InvalidRequest]: 400,
  [ErrorType.SelfApproval]: 403,
  [ErrorType.UnknownSample]: 404,
  [ErrorType.AlreadyAdjudicated]: 409,
  [ErrorType.NotAdjudicating]: 409,
  [ErrorType.ReleaseFinished]: 409,
};

/** An adjudication the release did not take, with the status and validator type to answer with. */
export class AdjudicationRefusal extends UpdateRefusal {}

/** The roles of an account that may adjudicate (qa, clinical). */
export function adjudicatorRoles(user: Pick<Identity, 'roles'>): Array<(typeof ADJUDICATOR_ROLES)[number]> {
  return ADJUDICATOR_ROLES.filter((r) => (user.roles as readonly string[]).includes(r));
}

/** Build the Update input for an account, or refuse (403 without an adjudicating role, 400 on bad fields). */
export function adjudicationInput(
  user: Pick<Identity, 'id' | 'name' | 'roles'>,
  fields: { sampleId: string; verdict: string; comment: string; role?: string | undefined },
): AdjudicationInput {
  const roles = adjudicatorRoles(user);
  if (roles.length === 0)
    throw new AdjudicationRefusal(
      403,
      `${user.id} holds no role that may adjudicate (${ADJUDICATOR_ROLES.join(' or ')})`,
    );
  const role = fields.role ?? roles[0]!;
  if (!(roles as string[]).includes(role))
    throw new AdjudicationRefusal(403, `${user.id} does not hold the role ${role}`);
  const parsed = AdjudicationInputSchema.safeParse({
    sampleId: fields.sampleId,
    reviewer: user.id,
    printedName: user.name,
    role,
    verdict: fields.verdict,
    comment: fields.comment,
  });
  if (!parsed.success)
    throw new AdjudicationRefusal(
      400,
      `invalid adjudication: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      ErrorType.InvalidRequest,
    );
  return parsed.data;
}

/** One adjudicateCase Update; every refusal a person can act on becomes an AdjudicationRefusal. */
export async function submitAdjudication(
  deps: { client: TemporalPort; log: Logger },
  releaseId: string,
  input: AdjudicationInput,
): Promise<AdjudicationResult> {
  try {
    return await deps.client.workflow.getHandle(releaseId).executeUpdate(adjudicateCaseUpdate, { args: [input] });
  } catch (err) {
    throw updateRefusal(err, {
      releaseId,
      what: 'adjudication',
      statuses: ADJUDICATION_REFUSAL_STATUS,
      log: deps.log,
      logMessage: 'adjudication failed unexpectedly',
      refuse: (status, message, type) => new AdjudicationRefusal(status, message, type),
    });
  }
}

/** What a reviewer sends to POST /api/releases/:id/adjudications; `reviewer` / `printedName` come from the account. */
export const AdjudicationRequestSchema = z
  .object({
    username: z.string().min(1).max(128),
    password: z.string().min(1).max(1024),
    sampleId: AdjudicationInputSchema.shape.sampleId,
    verdict: AdjudicationInputSchema.shape.verdict,
    comment: AdjudicationInputSchema.shape.comment,
    role: AdjudicationInputSchema.shape.role.optional(),
  })
  .strict();

export function adjudicationHandler(deps: SignatureRouteDeps) {
  return async (c: Context, body: unknown): Promise<Response> => {
    const releaseId = c.req.param('id')!;
    if (deps.usersConfigured === false)
      throw new ApiError(503, 'accounts are not configured on this server (no users file: set VIGIL_USERS_FILE)');
    const audit = auditFor(deps, c, releaseId);
    const { req, identity, authentication } = await actingPerson(
      deps,
      c,
      audit,
      AdjudicationRequestSchema,
      body,
      'adjudication',
    );
    try {
      const result = await submitAdjudication(deps, releaseId, {
        ...adjudicationInput(identity, req),
        ...(authentication ? { authentication } : {}),
      });
      deps.log.info(
        { releaseId, reviewer: identity.id, sampleId: req.sampleId, verdict: req.verdict },
        'adjudication accepted',
      );
      return c.json(result, 201);
    } catch (err) {
      if (err instanceof AdjudicationRefusal) {
        deps.log.info(
          { releaseId, reviewer: identity.id, sampleId: req.sampleId, status: err.status, reason: err.message },
          'adjudication refused',
        );
        throw new ApiError(err.status, err.message, err.type ? { type: err.type } : {});
      }
      throw err;
    }
  };
}
