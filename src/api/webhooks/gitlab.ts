/** POST /webhooks/gitlab: a push of a branch head, with the project's secret token, starts a release. */
import type { Context, Hono } from 'hono';
import { parseWith } from '../errors';
import { modelsForPush } from './config';
import { duplicate, type WebhookContext } from './context';
import { startDelivered } from './delivery-start';
import { deliveryHeader, parseJson, rawBody, refusal, requireJson } from './intake';
import { branchOf, gitRelease, singleModel } from './mapping';
import { GitLabPushSchema } from './payloads';
import { verifyGitLabToken } from '../../services/webhook-signatures';

/** Registers the route (only when a GitLab token is configured). */
export function registerGitLabRoute(hooks: Hono, ctx: WebhookContext, token: string): void {
  hooks.post('/gitlab', requireJson, ctx.limitBody, (c) => gitLabPush(ctx, c, token));
}

async function gitLabPush(ctx: WebhookContext, c: Context, token: string): Promise<Response> {
  const raw = await rawBody(c);
  if (!verifyGitLabToken(token, c.req.header('x-gitlab-token')))
    throw refusal(401, 'invalid or missing X-Gitlab-Token');
  // Idempotency-Key (GitLab ≥ 17.4) stays the same across GitLab's own retries; else the event UUID.
  const deliveryId =
    c.req.header('idempotency-key') !== undefined
      ? deliveryHeader(c, 'idempotency-key')
      : deliveryHeader(c, 'x-gitlab-event-uuid');
  const event = c.req.header('x-gitlab-event') ?? '';
  if (event !== 'Push Hook')
    return c.json(
      { ignored: true, deliveryId, reason: `GitLab event "${event.slice(0, 64)}" does not trigger releases` },
      202,
    );
  const push = parseWith(GitLabPushSchema, parseJson(raw), 'invalid GitLab push payload');

  const key = `gitlab:${deliveryId}`;
  const dup = await ctx.ledger.get(key);
  if (dup) return duplicate(c, deliveryId, dup);

  const branch = branchOf(push.ref);
  if (branch === null || push.checkout_sha === null || /^0{40}$/.test(push.after)) {
    return c.json({ ignored: true, deliveryId, reason: 'not a push of a branch head (tag or deleted branch)' }, 202);
  }
  const repo = push.project.path_with_namespace;
  const model = singleModel(
    modelsForPush(ctx.deps.config, 'gitlab', repo, branch),
    `GitLab project ${repo} branch ${branch}`,
  );
  const commit = push.checkout_sha;
  const firstLine = push.commits?.find((x) => x.id === commit)?.message?.split('\n')[0] ?? '';
  const request = await gitRelease(ctx, model, {
    commit,
    submittedBy: `gitlab:${push.user_username ?? 'unknown'}`,
    reason: `push to ${repo}@${branch} (${commit.slice(0, 12)})${firstLine ? `: ${firstLine}` : ''}`,
    deliveryId,
    committedAt: push.commits?.find((x) => x.id === commit)?.timestamp,
  });
  return startDelivered(ctx, c, {
    source: 'gitlab',
    deliveryKey: key,
    deliveryId,
    request,
    concurrency: model.concurrency,
  });
}
