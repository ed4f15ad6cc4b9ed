import crypto from 'node:crypto';
import {
  ApplicationFailure,
  ServiceError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { VigilConfig } from '../config';
import { ApprovalInputSchema, ErrorType, ReleaseRequestSchema, releaseIdFor } from '../domain';
import { approveReleaseUpdate, releaseStatusQuery, SearchAttr } from '../domain/messages';
import { canonicalBytes, sha256Hex } from '../evidence/canonical-json';
import type { Logger } from '../logging/logger';
import { ApiError, parseWith } from './errors';
import { describeOrNull, endedAs, startReleaseWorkflow } from './release-start';
import type { TemporalPort } from './temporal-port';
import { createWebhookRoutes, type WebhookDeps } from './webhooks';
import { createUiRoutes, type UiDeps } from '../ui/routes';
import { SIGNATURE_REFUSAL_STATUS } from './sign-off';
import { adjudicationHandler } from './adjudication';
import { canaryDecisionHandler, signatureHandler, withdrawalHandler, type SignatureRouteDeps } from './signatures';

export const MAX_BODY_BYTES = 256 * 1024;
export const LIST_LIMIT = 100;
const HEALTH_TIMEOUT_MS = 2000;
const QUERY_TIMEOUT_MS = 15_000;

export interface AppDeps {
  client: TemporalPort;
  config: Pick<VigilConfig, 'api'>;
  log: Logger;
  /** Mounts /webhooks/* when given (see src/api/webhooks). */
  webhooks?: WebhookDeps;
  /** Mounts the codec server (/codec/encode, /codec/decode) when payload encryption is configured (src/codec). */
  codecRoutes?: Hono;
  /** Mounts the sign-off web UI at /ui/* when given (see src/ui). */
  ui?: UiDeps;
  /**
   * Accounts for POST /api/releases/:id/signatures (the CLI's sign-off); defaults to the UI's, so both share
   * the users file, lockout and auth audit log. Without either, that route answers 503.
   */
  signing?: SignatureRouteDeps;
}

export function createApp({ client, config, log, webhooks, ui, codecRoutes, signing = ui }: AppDeps): Hono {
  const app = new Hono();

  app.onError((err, c) => {
    if (err instanceof ApiError) {
      if (err.status >= 500)
        log.error({ err: err.cause ?? err, method: c.req.method, path: c.req.path }, 'api request failed');
      return c.json({ error: err.message, ...err.details }, err.status);
    }
    if (err instanceof HTTPException)
      return c.json({ error: err.message || 'request failed' }, err.status as ContentfulStatusCode);
    if (temporalUnavailable(err)) {
      log.warn({ err: String(err.cause), method: c.req.method, path: c.req.path }, 'temporal unavailable');
      return c.json({ error: 'Temporal is unavailable; try again shortly' }, 503);
    }
    log.error({ err, method: c.req.method, path: c.req.path }, 'unhandled api error');
    return c.json({ error: 'internal error' }, 500);
  });
  app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404));

  app.get('/healthz', async (c) => {
    try {
      await withTimeout(client.workflowService.getSystemInfo({}), HEALTH_TIMEOUT_MS);
      return c.json({ ok: true });
    } catch (err) {
      log.warn({ err: String(err) }, 'health check: temporal unreachable');
      return c.json({ ok: false, error: 'temporal unreachable' }, 503);
    }
  });

  const api = new Hono();
  api.use('*', requireToken(config.api.token));

  api.post('/releases', requireJson, limitBody, async (c) => {
    const parsed = parseWith(ReleaseRequestSchema, await readJson(c), 'invalid release request');
    const releaseId = releaseIdFor(parsed, sha256Hex(canonicalBytes(parsed.policy)));
    const handle = client.workflow.getHandle(releaseId);
    // USE_EXISTING answers a running release with its run id; only a look beforehand tells "joined" from "started".
    const before = await describeOrNull(handle);
    const runId = await startReleaseWorkflow(
      client,
      parsed,
      releaseId,
      `submit it with "attempt": ${parsed.attempt + 1}`,
    );
    const joined = before !== null && before.status.name === 'RUNNING' && before.runId === runId;
    log.info(
      { releaseId, runId, started: !joined, model: parsed.modelName },
      joined ? 'release already running' : 'release started',
    );
    return c.json({ releaseId, runId, started: !joined }, joined ? 200 : 201);
  });

  api.get('/releases', async (c) => {
    const releases = [];
    for await (const wf of client.workflow.list({ query: "WorkflowType = 'releaseLifecycle'", pageSize: LIST_LIMIT })) {
      releases.push({
        releaseId: wf.workflowId,
        runId: wf.runId,
        status: wf.status.name,
        startTime: wf.startTime.toISOString(),
        closeTime: wf.closeTime?.toISOString() ?? null,
        model: wf.typedSearchAttributes.get(SearchAttr.model) ?? null,
        stage: wf.typedSearchAttributes.get(SearchAttr.stage) ?? null,
        outcome: wf.typedSearchAttributes.get(SearchAttr.outcome) ?? null,
      });
      if (releases.length >= LIST_LIMIT) break;
    }
    return c.json({ releases });
  });

  api.get('/releases/:id', async (c) => {
    const releaseId = c.req.param('id');
    try {
      return c.json(
        await withTimeout(client.workflow.getHandle(releaseId).query(releaseStatusQuery), QUERY_TIMEOUT_MS),
      );
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new ApiError(404, `no release ${releaseId}`);
      // A query is answered by a worker: none polling means the server times out (or we do first).
      if (err instanceof ServiceError || err instanceof DeadlineError) {
        log.warn({ releaseId, err: String(err) }, 'release status query failed');
        throw new ApiError(503, `status of release ${releaseId} is unavailable right now (is a Vigil worker running?)`);
      }
      throw err;
    }
  });

  // The e-signature of a person: user id + password re-checked for this act; signer and printed name from the account.
  const sign = signing ? signatureHandler(signing) : null;
  api.post('/releases/:id/signatures', requireJson, limitBody, async (c) => {
    if (!sign)
      throw new ApiError(503, 'signing is not configured on this server (no users file: set VIGIL_USERS_FILE)');
    return sign(c, await readJson(c));
  });
  // The signer withdraws their own approval while sign-off is open: the same re-authentication as signing.
  const withdrawSig = signing ? withdrawalHandler(signing) : null;
  api.post('/releases/:id/signatures/withdraw', requireJson, limitBody, async (c) => {
    if (!withdrawSig)
      throw new ApiError(503, 'signing is not configured on this server (no users file: set VIGIL_USERS_FILE)');
    return withdrawSig(c, await readJson(c));
  });

  // A person resumes or rolls back a held canary: the same re-authentication as signing.
  const decideCanary = signing ? canaryDecisionHandler(signing) : null;
  api.post('/releases/:id/canary-decision', requireJson, limitBody, async (c) => {
    if (!decideCanary)
      throw new ApiError(503, 'signing is not configured on this server (no users file: set VIGIL_USERS_FILE)');
    return decideCanary(c, await readJson(c));
  });

  // A reviewer adjudicates one sampled shadow disagreement (the web UI does the same from a session).
  const adjudicate = signing ? adjudicationHandler(signing) : null;
  api.post('/releases/:id/adjudications', requireJson, limitBody, async (c) => {
    if (!adjudicate)
      throw new ApiError(503, 'accounts are not configured on this server (no users file: set VIGIL_USERS_FILE)');
    return adjudicate(c, await readJson(c));
  });

  // Service-account path: trusts the body's signer on the strength of the shared bearer token alone (tests and
  // automation that sign as a system identity). People sign through /signatures or the web UI.
  api.post('/releases/:id/approvals', requireJson, limitBody, async (c) => {
    const releaseId = c.req.param('id');
    const input = parseWith(ApprovalInputSchema, await readJson(c), 'invalid approval');
    const handle = client.workflow.getHandle(releaseId);
    try {
      const result = await handle.executeUpdate(approveReleaseUpdate, { args: [input] });
      log.info({ releaseId, signer: input.signer, role: input.role, decision: input.decision }, 'approval accepted');
      return c.json(result);
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) throw updateRejection(err);
      if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
        throw new ApiError(
          503,
          `timed out waiting for release ${releaseId} to take the approval; check its status before signing again`,
        );
      }
      // A closed workflow refuses Updates at the server (NotFound), before our validator can answer.
      if (err instanceof WorkflowNotFoundError || err instanceof ServiceError) {
        const now = await describeOrNull(handle);
        if (now === null) throw new ApiError(404, `no release ${releaseId}`);
        if (now.status.name !== 'RUNNING') {
          throw new ApiError(409, `release ${releaseId} has already finished (${endedAs(now)})`, {
            type: ErrorType.ReleaseFinished,
          });
        }
      }
      throw err;
    }
  });

  app.route('/api', api);
  if (codecRoutes) app.route('/codec', codecRoutes);
  if (webhooks) app.route('/webhooks', createWebhookRoutes(webhooks, { client, log }));
  if (ui) {
    app.route('/ui', createUiRoutes(ui));
    app.get('/', (c) => c.redirect('/ui/inbox', 303));
    app.get('/ui/', (c) => c.redirect('/ui/inbox', 303));
  }
  return app;
}

/** Bearer token check in constant time; no token configured means the API is open (local development). */
function requireToken(token: string | undefined): MiddlewareHandler {
  const expected = token === undefined ? undefined : digest(token);
  return async (c, next) => {
    if (expected !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '');
      if (!match || !crypto.timingSafeEqual(digest(match[1]!), expected)) {
        c.header('WWW-Authenticate', 'Bearer realm="vigil"');
        throw new ApiError(401, 'missing or invalid bearer token');
      }
    }
    await next();
  };
}

const digest = (s: string): Buffer => crypto.createHash('sha256').update(s, 'utf8').digest();

/** Content type first (415), then size (413): a JSON body of at most MAX_BODY_BYTES. */
const requireJson: MiddlewareHandler = async (c, next) => {
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new ApiError(415, 'content-type must be application/json');
  await next();
};

const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new ApiError(413, `request body exceeds ${MAX_BODY_BYTES} bytes`);
  },
});

async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, `malformed JSON: ${(err as Error).message}`);
  }
}

function updateRejection(err: WorkflowUpdateFailedError): ApiError {
  const cause = err.cause;
  if (cause instanceof ApplicationFailure && cause.type) {
    const status = SIGNATURE_REFUSAL_STATUS[cause.type];
    if (status !== undefined) return new ApiError(status, cause.message, { type: cause.type });
  }
  // A failure we did not design for (e.g. the handler's activity failed): keep the details in the log.
  return new ApiError(500, 'the approval could not be recorded', {}, { cause: err });
}

class DeadlineError extends Error {}

const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;

/** The client gave up reaching the frontend (after its own retries): a 503, not a bug. */
function temporalUnavailable(err: unknown): err is ServiceError {
  const code = err instanceof ServiceError ? (err.cause as { code?: unknown } | undefined)?.code : undefined;
  return code === GRPC_UNAVAILABLE || code === GRPC_DEADLINE_EXCEEDED;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
