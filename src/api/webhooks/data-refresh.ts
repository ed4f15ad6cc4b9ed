/**
 * POST /webhooks/data-refresh (Vigil-signed): a refreshed dataset starts a release of the model with that dataset
 * in place of the configured one of its role, and the candidate from the event or the model's templates.
 */
import type { Context, Hono } from 'hono';
import type { DatasetRef } from '../../domain';
import { ApiError, parseWith } from '../errors';
import { duplicate, type WebhookContext } from './context';
import { startDelivered } from './delivery-start';
import { parseJson, requireJson, vigilSigned } from './intake';
import { buildRequest, candidateFor } from './mapping';
import { DataRefreshSchema, datasetKeyFromUri } from './payloads';

/** Registers the route (only when a data-refresh secret is configured). */
export function registerDataRefreshRoute(hooks: Hono, ctx: WebhookContext, secret: string): void {
  hooks.post('/data-refresh', requireJson, ctx.limitBody, (c) => dataRefresh(ctx, c, secret));
}

async function dataRefresh(ctx: WebhookContext, c: Context, secret: string): Promise<Response> {
  const { raw, deliveryId } = await vigilSigned(ctx, c, secret);
  const event = parseWith(DataRefreshSchema, parseJson(raw), 'invalid data-refresh event');
  const key = `data-refresh:${deliveryId}`;
  const dup = await ctx.ledger.get(key);
  if (dup) return duplicate(c, deliveryId, dup);

  const model = ctx.models.get(event.model);
  if (!model || !model.dataRefresh)
    throw new ApiError(422, `model ${event.model} is not configured for data-refresh releases`);
  const dsKey = datasetKeyFromUri(event.dataset.uri, ctx.deps.evidenceBucket);
  if ('error' in dsKey)
    throw new ApiError(422, dsKey.error, { issues: [{ path: 'dataset.uri', message: dsKey.error }] });
  const refreshed: DatasetRef = {
    role: event.dataset.role,
    name: event.dataset.name,
    artifact: { key: dsKey.key, sha256: event.dataset.sha256 },
    format: event.dataset.format,
  };
  const candidate =
    event.candidate ??
    (await candidateFor(ctx, model, {
      model: model.model,
      commit: event.codeCommit,
      shortCommit: event.codeCommit.slice(0, 12),
      datasetSha256: event.dataset.sha256,
      datasetShort: event.dataset.sha256.slice(0, 12),
    }));
  const request = buildRequest({
    modelName: model.model,
    candidate,
    incumbent: model.incumbent,
    // The refreshed dataset replaces the configured datasets of its role.
    datasets: [...model.datasets.filter((d) => d.role !== refreshed.role), refreshed],
    codeCommit: event.codeCommit,
    submittedBy: event.submittedBy ?? 'data-refresh',
    reason:
      event.reason ??
      `data refresh of ${refreshed.role} dataset ${refreshed.name} (${refreshed.artifact.sha256.slice(0, 12)})`,
    trigger: { kind: 'data_refresh', deliveryId },
    policy: model.policy,
    ...(model.policyAsWritten ? { policyAsWritten: model.policyAsWritten } : {}),
  });
  return startDelivered(ctx, c, {
    source: 'data-refresh',
    deliveryKey: key,
    deliveryId,
    request,
    concurrency: model.concurrency,
  });
}
