/**
 * Starting the release a delivery asks for, once: join a running release of the same id, refuse a finished one,
 * otherwise apply the model's concurrency policy (start, queue behind in-flight releases, or supersede them) and
 * record the outcome in the delivery ledger so a redelivery answers the same. Of parallel copies of one delivery,
 * the first to record answers with what was done; the others answer "duplicate" with its entry.
 */
import type { Context } from 'hono';
import { releaseIdFor, StageSchema, type ReleaseRequest } from '../../domain';
import { SearchAttr } from '../../domain/messages';
import { requestPolicyDigest } from '../../evidence/policy-digest';
import { alreadyFinished, describeOrNull, startReleaseWorkflow } from '../release-start';
import {
  decideConcurrentCandidate,
  SupersedeNotSupportedError,
  type ConcurrencyPolicy,
  type ConcurrentDecision,
  type InFlightRelease,
} from './concurrency';
import { duplicate, type Source, type WebhookContext } from './context';

const MAX_IN_FLIGHT_LISTED = 50;

/** A webhook cannot bump `attempt`; the API can. */
const RETRY_HINT = 'submit it through POST /api/releases with a higher "attempt"';

/** One delivery's release request, with where it came from and the model's concurrency policy. */
export interface DeliveredRelease {
  source: Source;
  deliveryKey: string;
  deliveryId: string;
  request: ReleaseRequest;
  concurrency: ConcurrencyPolicy;
}

/** 200 joined, 201 started, 202 queued; a finished release of the same id is refused (409). */
export async function startDelivered(ctx: WebhookContext, c: Context, r: DeliveredRelease): Promise<Response> {
  const { request } = r;
  const releaseId = releaseIdFor(request, requestPolicyDigest(request));
  const handle = ctx.client.workflow.getHandle(releaseId);
  const base = { deliveryId: r.deliveryId, releaseId };

  const before = await describeOrNull(handle);
  if (before !== null && before.status.name === 'RUNNING') {
    const earlier = await ctx.ledger.record(r.deliveryKey, { releaseId, outcome: 'joined' });
    if (earlier) return duplicate(c, r.deliveryId, earlier);
    ctx.log.info({ ...base, source: r.source }, 'webhook: release already running');
    return c.json({ ...base, runId: before.runId, started: false }, 200);
  }
  if (before !== null) throw alreadyFinished(releaseId, before, RETRY_HINT);

  const inFlight = await listInFlight(ctx, request.modelName, releaseId);
  const { decision, note } = await supersedeOrQueue(ctx, r, releaseId, inFlight);
  if (decision === 'queue') {
    const behind = inFlight.map((x) => x.releaseId);
    await ctx.queue.enqueue({
      releaseId,
      modelName: request.modelName,
      deliveryKey: r.deliveryKey,
      behind,
      queuedAt: new Date(ctx.now()).toISOString(),
      request,
    });
    const earlier = await ctx.ledger.record(r.deliveryKey, { releaseId, outcome: 'queued' });
    if (earlier) return duplicate(c, r.deliveryId, earlier);
    ctx.log.info({ ...base, source: r.source, behind }, 'webhook: candidate queued behind in-flight release');
    return c.json({ ...base, queued: true, started: false, behind, ...(note ? { note } : {}) }, 202);
  }

  const runId = await startReleaseWorkflow(ctx.client, request, releaseId, RETRY_HINT);
  const earlier = await ctx.ledger.record(r.deliveryKey, { releaseId, outcome: 'started' });
  if (earlier) return duplicate(c, r.deliveryId, earlier);
  ctx.log.info({ ...base, runId, source: r.source, model: request.modelName }, 'webhook: release started');
  return c.json({ ...base, runId, started: true }, 201);
}

/**
 * The concurrency decision, with superseding carried out. A superseder that cannot supersede turns the decision
 * into 'queue', with its reason as a note for the caller.
 */
async function supersedeOrQueue(
  ctx: WebhookContext,
  r: DeliveredRelease,
  releaseId: string,
  inFlight: InFlightRelease[],
): Promise<{ decision: ConcurrentDecision; note?: string }> {
  const decision = decideConcurrentCandidate(inFlight, r.concurrency);
  if (typeof decision !== 'object') return { decision };
  try {
    for (const id of decision.supersede) {
      await ctx.superseder.supersede(id, {
        reason: `superseded by ${releaseId} (${r.source} delivery ${r.deliveryId})`,
        supersededBy: releaseId,
      });
      ctx.log.info({ deliveryId: r.deliveryId, releaseId, superseded: id }, 'webhook: superseded in-flight release');
    }
    return { decision };
  } catch (err) {
    if (!(err instanceof SupersedeNotSupportedError)) throw err;
    return { decision: 'queue', note: err.message };
  }
}

/** The model's running releases other than `own`, with their stage (visibility is eventually consistent). */
async function listInFlight(ctx: WebhookContext, model: string, own: string): Promise<InFlightRelease[]> {
  const out: InFlightRelease[] = [];
  // `model` is a validated slug: safe to quote into the visibility query.
  const query = `WorkflowType = 'releaseLifecycle' AND ExecutionStatus = 'Running' AND ${SearchAttr.model.name} = '${model}'`;
  for await (const wf of ctx.client.workflow.list({ query, pageSize: MAX_IN_FLIGHT_LISTED })) {
    if (wf.workflowId === own) continue;
    const stage = StageSchema.safeParse(wf.typedSearchAttributes.get(SearchAttr.stage));
    out.push({ releaseId: wf.workflowId, stage: stage.success ? stage.data : null });
    if (out.length >= MAX_IN_FLIGHT_LISTED) break;
  }
  return out;
}
