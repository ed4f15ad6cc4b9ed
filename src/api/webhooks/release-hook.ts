/** POST /webhooks/release (Vigil-signed): a complete release request, as the API takes it, from another system. */
import type { Hono } from 'hono';
import { ReleaseRequestSchema, type ReleaseRequest } from '../../domain';
import { parseWith } from '../errors';
import { duplicate, type WebhookContext } from './context';
import { startDelivered } from './delivery-start';
import { parseJson, requireJson, vigilSigned } from './intake';

/** Registers the route (only when a release secret is configured). */
export function registerReleaseRoute(hooks: Hono, ctx: WebhookContext, secret: string): void {
  hooks.post('/release', requireJson, ctx.limitBody, async (c) => {
    const { raw, deliveryId } = await vigilSigned(ctx, c, secret);
    const body = parseWith(ReleaseRequestSchema, parseJson(raw), 'invalid release request');
    const key = `release:${deliveryId}`;
    const dup = await ctx.ledger.get(key);
    if (dup) return duplicate(c, deliveryId, dup);
    const request: ReleaseRequest = { ...body, trigger: { kind: body.trigger.kind, deliveryId } };
    const concurrency = ctx.models.get(request.modelName)?.concurrency ?? 'queue';
    return startDelivered(ctx, c, { source: 'release', deliveryKey: key, deliveryId, request, concurrency });
  });
}
