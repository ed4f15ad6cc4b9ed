/**
 * /api/releases: start a release (idempotent by release id), list releases, read one's status, and the
 * service-account approval path.
 */
import {
  ApplicationFailure,
  ServiceError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import type { WorkflowExecutionDescription } from '@temporalio/client';
import type { Hono } from 'hono';
import { ApprovalInputSchema, ErrorType, ReleaseRequestSchema, releaseIdFor, type ReleaseExecution } from '../domain';
import { approveReleaseUpdate, releaseStatusQuery, SearchAttr } from '../domain/messages';
import { requestPolicyDigest } from '../evidence/policy-digest';
import type { Logger } from '../logging/logger';
import { ApiError, parseWith } from './errors';
import { DeadlineError, limitBody, readJson, requireJson, withTimeout } from './http';
import { describeOrNull, endedAs, startReleaseWorkflow } from './release-start';
import { SIGNATURE_REFUSAL_STATUS } from './sign-off';
import type { TemporalPort } from './temporal-port';

export const LIST_LIMIT = 100;
const QUERY_TIMEOUT_MS = 15_000;

type Deps = { client: TemporalPort; log: Logger };

/** POST/GET /releases, GET /releases/:id and POST /releases/:id/approvals. */
export function registerReleaseRoutes(api: Hono, deps: Deps): void {
  const { client, log } = deps;
  api.post('/releases', requireJson, limitBody, async (c) => {
    const parsed = parseWith(ReleaseRequestSchema, await readJson(c), 'invalid release request');
    const releaseId = releaseIdFor(parsed, requestPolicyDigest(parsed));
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
      const handle = client.workflow.getHandle(releaseId);
      // The run as Temporal sees it beside the workflow's own status: a failed run, a retried activity.
      const [status, described] = await Promise.all([
        withTimeout(handle.query(releaseStatusQuery), QUERY_TIMEOUT_MS),
        describeOrNull(handle).catch(() => null),
      ]);
      const execution = executionOf(described);
      return c.json(execution ? { ...status, execution } : status);
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

  registerServiceApproval(api, deps);
}

/** Run status and pending activities (attempt, last failure) from Temporal's describe; null if unavailable. */
export function executionOf(d: WorkflowExecutionDescription | null): ReleaseExecution | null {
  if (!d) return null;
  const pending = d.raw?.pendingActivities ?? [];
  return {
    status: d.status.name,
    pendingActivities: pending.map((a) => ({
      activity: a.activityType?.name ?? '?',
      attempt: a.attempt ?? 1,
      lastFailure: a.lastFailure?.message ?? null,
      lastFailureType: a.lastFailure?.applicationFailureInfo?.type ?? null,
    })),
  };
}

/**
 * Service-account path: trusts the body's signer on the strength of the shared bearer token alone (tests and
 * automation that sign as a system identity). People sign through /signatures or the web UI.
 */
function registerServiceApproval(api: Hono, { client, log }: Deps): void {
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
