/** POST /webhooks/github: a signed push of a branch head starts a release of the model mapped to it. */
import type { Context, Hono } from 'hono';
import type { z } from 'zod';
import { ApiError, parseWith } from '../errors';
import { modelsForPush } from './config';
import { duplicate, type WebhookContext } from './context';
import { startDelivered } from './delivery-start';
import { deliveryHeader, parseJson, rawBody, refusal, requireJson } from './intake';
import { branchOf, gitRelease, singleModel } from './mapping';
import { GitHubPushSchema } from './payloads';
import { verifyGitHubSignature } from '../../services/webhook-signatures';

type GitHubPush = z.output<typeof GitHubPushSchema>;

/** Registers the route (only when a GitHub secret is configured). */
export function registerGitHubRoute(hooks: Hono, ctx: WebhookContext, secret: string): void {
  hooks.post('/github', requireJson, ctx.limitBody, (c) => gitHubPush(ctx, c, secret));
}

async function gitHubPush(ctx: WebhookContext, c: Context, secret: string): Promise<Response> {
  const raw = await rawBody(c);
  if (!verifyGitHubSignature(secret, raw, c.req.header('x-hub-signature-256'))) {
    throw refusal(401, 'invalid or missing X-Hub-Signature-256 signature');
  }
  const deliveryId = deliveryHeader(c, 'x-github-delivery');
  const event = c.req.header('x-github-event') ?? '';
  if (event === 'ping') return c.json({ ok: true, event: 'ping', deliveryId });
  if (event !== 'push')
    return c.json(
      { ignored: true, deliveryId, reason: `GitHub event "${event.slice(0, 64)}" does not trigger releases` },
      202,
    );
  const push = parseWith(GitHubPushSchema, parseJson(raw), 'invalid GitHub push payload');
  checkFresh(ctx, push);

  const key = `github:${deliveryId}`;
  const dup = await ctx.ledger.get(key);
  if (dup) return duplicate(c, deliveryId, dup);

  const branch = branchOf(push.ref);
  if (branch === null || push.deleted === true || /^0{40}$/.test(push.after)) {
    return c.json({ ignored: true, deliveryId, reason: 'not a push of a branch head (tag or deleted branch)' }, 202);
  }
  const model = singleModel(
    modelsForPush(ctx.deps.config, 'github', push.repository.full_name, branch),
    `GitHub repository ${push.repository.full_name} branch ${branch}`,
  );
  const firstLine = push.head_commit?.message?.split('\n')[0] ?? '';
  const request = await gitRelease(ctx, model, {
    commit: push.after,
    submittedBy: `github:${push.pusher?.name ?? push.sender?.login ?? 'unknown'}`,
    reason: `push to ${push.repository.full_name}@${branch} (${push.after.slice(0, 12)})${firstLine ? `: ${firstLine}` : ''}`,
    deliveryId,
    committedAt: push.head_commit?.timestamp,
  });
  return startDelivered(ctx, c, {
    source: 'github',
    deliveryKey: key,
    deliveryId,
    request,
    concurrency: model.concurrency,
  });
}

/** GitHub signs without a timestamp header: the push time inside the signed body bounds a replay instead. */
function checkFresh(ctx: WebhookContext, push: GitHubPush): void {
  const pushedAt = githubPushTime(push);
  if (pushedAt === null)
    throw new ApiError(400, 'GitHub push payload carries no push time (repository.pushed_at or head_commit.timestamp)');
  const ageS = (ctx.now() - pushedAt) / 1000;
  if (ageS > ctx.limits.gitMaxAgeSeconds || ageS < -ctx.limits.toleranceSeconds) {
    throw refusal(
      401,
      `stale delivery: pushed at ${new Date(pushedAt).toISOString()}, outside the ${ctx.limits.gitMaxAgeSeconds} s window`,
    );
  }
}

/** Push time in ms: repository.pushed_at (set by GitHub, inside the signed body), else the head commit's time. */
function githubPushTime(push: GitHubPush): number | null {
  const p = push.repository.pushed_at;
  if (typeof p === 'number') return p * 1000;
  if (typeof p === 'string') return Date.parse(p);
  const t = push.head_commit?.timestamp;
  return t ? Date.parse(t) : null;
}
