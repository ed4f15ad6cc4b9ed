import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { z } from 'zod';
import {
  ReleaseRequestSchema,
  releaseIdFor,
  StageSchema,
  type DatasetRef,
  type ReleaseRequest,
  type ReleaseRequestInput,
} from '../../domain';
import { SearchAttr } from '../../domain/messages';
import { canonicalBytes, sha256Hex } from '../../evidence/canonical-json';
import type { Logger } from '../../logging/logger';
import { ApiError, fieldIssues, parseWith } from '../errors';
import { alreadyFinished, describeOrNull, startReleaseWorkflow } from '../release-start';
import type { TemporalPort } from '../temporal-port';
import {
  decideConcurrentCandidate,
  InMemoryReleaseQueue,
  SupersedeNotSupportedError,
  unsupportedSuperseder,
  type ConcurrencyPolicy,
  type InFlightRelease,
  type ReleaseQueue,
  type ReleaseSuperseder,
} from './concurrency';
import {
  fillTemplate,
  modelsForPush,
  type ModelWebhookConfig,
  type TemplateValues,
  type WebhookConfig,
} from './config';
import { InMemoryDeliveryLedger, type DeliveryLedger, type LedgerEntry } from './ledger';
import { DataRefreshSchema, datasetKeyFromUri, GitHubPushSchema, GitLabPushSchema } from './payloads';
import type { ArtifactResolver } from './resolver';
import { verifyGitHubSignature, verifyGitLabToken, verifyVigilSignature } from './signatures';

export const WEBHOOK_DEFAULTS = {
  maxBodyBytes: 1024 * 1024,
  /** Vigil-signed deliveries: |now − X-Vigil-Timestamp| must be within this. */
  toleranceSeconds: 300,
  /** GitHub pushes: the push (repository.pushed_at) must be at most this old. */
  gitMaxAgeSeconds: 3600,
} as const;

/** A secret left unset disables its route (404). Values are never logged. */
export interface WebhookSecrets {
  github?: string;
  gitlab?: string;
  dataRefresh?: string;
  release?: string;
}

export interface WebhookDeps {
  config: WebhookConfig;
  secrets: WebhookSecrets;
  resolver: ArtifactResolver;
  ledger?: DeliveryLedger;
  queue?: ReleaseQueue;
  superseder?: ReleaseSuperseder;
  limits?: Partial<{ maxBodyBytes: number; toleranceSeconds: number; gitMaxAgeSeconds: number }>;
  /** The evidence bucket, to check `s3://` dataset URIs against. */
  evidenceBucket?: string;
  now?: () => number;
}

const DELIVERY_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TIMESTAMP = /^\d{1,12}$/;
const MAX_IN_FLIGHT_LISTED = 50;

type Source = 'github' | 'gitlab' | 'data-refresh' | 'release';

/**
 * POST /webhooks/{github,gitlab,data-refresh,release}. Checks, in order: content type (415), size
 * (413), signature or token (401), delivery headers (400), freshness (401 "stale delivery"), JSON
 * (400 with the parser's reason), schema (400 with field issues), duplicate delivery (202), the
 * model mapping and candidate artifact (422), then the start. Every refusal starts nothing.
 */
export function createWebhookRoutes(deps: WebhookDeps, ctx: { client: TemporalPort; log: Logger }): Hono {
  const { client, log } = ctx;
  const limits = { ...WEBHOOK_DEFAULTS, ...deps.limits };
  const ledger = deps.ledger ?? new InMemoryDeliveryLedger();
  const queue = deps.queue ?? new InMemoryReleaseQueue();
  const superseder = deps.superseder ?? unsupportedSuperseder;
  const now = deps.now ?? Date.now;
  const models = new Map(deps.config.models.map((m) => [m.model, m]));

  const limitBody = bodyLimit({
    maxSize: limits.maxBodyBytes,
    onError: () => {
      throw new ApiError(413, `request body exceeds ${limits.maxBodyBytes} bytes`);
    },
  });

  const hooks = new Hono();

  if (deps.secrets.github) {
    const secret = deps.secrets.github;
    hooks.post('/github', requireJson, limitBody, async (c) => {
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

      const pushedAt = githubPushTime(push);
      if (pushedAt === null)
        throw new ApiError(
          400,
          'GitHub push payload carries no push time (repository.pushed_at or head_commit.timestamp)',
        );
      const ageS = (now() - pushedAt) / 1000;
      if (ageS > limits.gitMaxAgeSeconds || ageS < -limits.toleranceSeconds) {
        throw refusal(
          401,
          `stale delivery: pushed at ${new Date(pushedAt).toISOString()}, outside the ${limits.gitMaxAgeSeconds} s window`,
        );
      }

      const key = `github:${deliveryId}`;
      const dup = await ledger.get(key);
      if (dup) return duplicate(c, deliveryId, dup);

      const branch = branchOf(push.ref);
      if (branch === null || push.deleted === true || /^0{40}$/.test(push.after)) {
        return c.json(
          { ignored: true, deliveryId, reason: 'not a push of a branch head (tag or deleted branch)' },
          202,
        );
      }
      const model = singleModel(
        modelsForPush(deps.config, 'github', push.repository.full_name, branch),
        `GitHub repository ${push.repository.full_name} branch ${branch}`,
      );
      const firstLine = push.head_commit?.message?.split('\n')[0] ?? '';
      const request = await gitRelease(model, {
        commit: push.after,
        submittedBy: `github:${push.pusher?.name ?? push.sender?.login ?? 'unknown'}`,
        reason: `push to ${push.repository.full_name}@${branch} (${push.after.slice(0, 12)})${firstLine ? `: ${firstLine}` : ''}`,
        deliveryId,
        committedAt: push.head_commit?.timestamp,
      });
      return release(c, { source: 'github', deliveryKey: key, deliveryId, request, concurrency: model.concurrency });
    });
  }

  if (deps.secrets.gitlab) {
    const token = deps.secrets.gitlab;
    hooks.post('/gitlab', requireJson, limitBody, async (c) => {
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
      const dup = await ledger.get(key);
      if (dup) return duplicate(c, deliveryId, dup);

      const branch = branchOf(push.ref);
      if (branch === null || push.checkout_sha === null || /^0{40}$/.test(push.after)) {
        return c.json(
          { ignored: true, deliveryId, reason: 'not a push of a branch head (tag or deleted branch)' },
          202,
        );
      }
      const repo = push.project.path_with_namespace;
      const model = singleModel(
        modelsForPush(deps.config, 'gitlab', repo, branch),
        `GitLab project ${repo} branch ${branch}`,
      );
      const commit = push.checkout_sha;
      const firstLine = push.commits?.find((x) => x.id === commit)?.message?.split('\n')[0] ?? '';
      const request = await gitRelease(model, {
        commit,
        submittedBy: `gitlab:${push.user_username ?? 'unknown'}`,
        reason: `push to ${repo}@${branch} (${commit.slice(0, 12)})${firstLine ? `: ${firstLine}` : ''}`,
        deliveryId,
        committedAt: push.commits?.find((x) => x.id === commit)?.timestamp,
      });
      return release(c, { source: 'gitlab', deliveryKey: key, deliveryId, request, concurrency: model.concurrency });
    });
  }

  if (deps.secrets.dataRefresh) {
    const secret = deps.secrets.dataRefresh;
    hooks.post('/data-refresh', requireJson, limitBody, async (c) => {
      const { raw, deliveryId } = await vigilSigned(c, secret);
      const event = parseWith(DataRefreshSchema, parseJson(raw), 'invalid data-refresh event');
      const key = `data-refresh:${deliveryId}`;
      const dup = await ledger.get(key);
      if (dup) return duplicate(c, deliveryId, dup);

      const model = models.get(event.model);
      if (!model || !model.dataRefresh)
        throw new ApiError(422, `model ${event.model} is not configured for data-refresh releases`);
      const dsKey = datasetKeyFromUri(event.dataset.uri, deps.evidenceBucket);
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
        (await candidateFor(model, {
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
      });
      return release(c, {
        source: 'data-refresh',
        deliveryKey: key,
        deliveryId,
        request,
        concurrency: model.concurrency,
      });
    });
  }

  if (deps.secrets.release) {
    const secret = deps.secrets.release;
    hooks.post('/release', requireJson, limitBody, async (c) => {
      const { raw, deliveryId } = await vigilSigned(c, secret);
      const body = parseWith(ReleaseRequestSchema, parseJson(raw), 'invalid release request');
      const key = `release:${deliveryId}`;
      const dup = await ledger.get(key);
      if (dup) return duplicate(c, deliveryId, dup);
      const request: ReleaseRequest = { ...body, trigger: { kind: body.trigger.kind, deliveryId } };
      const concurrency = models.get(request.modelName)?.concurrency ?? 'queue';
      return release(c, { source: 'release', deliveryKey: key, deliveryId, request, concurrency });
    });
  }

  return hooks;

  // ---- helpers (closures over deps) ----

  /** Vigil's signed scheme: delivery + timestamp headers, signature over both and the body. */
  async function vigilSigned(c: Context, secret: string): Promise<{ raw: Uint8Array; deliveryId: string }> {
    const raw = await rawBody(c);
    const deliveryId = deliveryHeader(c, 'x-vigil-delivery');
    const ts = c.req.header('x-vigil-timestamp') ?? '';
    if (!TIMESTAMP.test(ts)) throw new ApiError(400, 'missing or malformed X-Vigil-Timestamp (unix seconds)');
    if (!verifyVigilSignature(secret, ts, deliveryId, raw, c.req.header('x-vigil-signature'))) {
      throw refusal(401, 'invalid or missing X-Vigil-Signature');
    }
    const skewS = Math.abs(now() / 1000 - Number(ts));
    if (skewS > limits.toleranceSeconds) {
      throw refusal(
        401,
        `stale delivery: X-Vigil-Timestamp is ${Math.round(skewS)} s from now, outside the ${limits.toleranceSeconds} s window`,
      );
    }
    return { raw, deliveryId };
  }

  function refusal(status: 401, message: string): ApiError {
    return new ApiError(status, message);
  }

  function duplicate(c: Context, deliveryId: string, entry: LedgerEntry): Response {
    return c.json({ duplicate: true, deliveryId, releaseId: entry.releaseId, outcome: entry.outcome }, 202);
  }

  async function candidateFor(
    model: ModelWebhookConfig,
    values: TemplateValues,
  ): Promise<ReleaseRequestInput['candidate']> {
    const key = fillTemplate(model.candidate.keyTemplate, values);
    const version = fillTemplate(model.candidate.versionTemplate, values);
    if ('missing' in key || 'missing' in version) {
      const missing = [...('missing' in key ? key.missing : []), ...('missing' in version ? version.missing : [])];
      throw new ApiError(
        422,
        `model ${model.model}: this event cannot fill the candidate template variables ${missing.map((m) => `{${m}}`).join(', ')}`,
      );
    }
    let sha256: string | null;
    try {
      sha256 = await deps.resolver.sha256Of(key.value);
    } catch (err) {
      throw new ApiError(
        503,
        'the evidence store is unavailable; cannot resolve the candidate artifact',
        {},
        { cause: err },
      );
    }
    if (sha256 === null) {
      throw new ApiError(
        422,
        `candidate artifact ${key.value} for model ${model.model} is not in the evidence store (yet); nothing was started`,
        {
          artifactKey: key.value,
        },
      );
    }
    return { version: version.value, artifact: { key: key.value, sha256 } };
  }

  async function gitRelease(
    model: ModelWebhookConfig,
    e: { commit: string; submittedBy: string; reason: string; deliveryId: string; committedAt?: string | undefined },
  ): Promise<ReleaseRequest> {
    const candidate = await candidateFor(model, {
      model: model.model,
      commit: e.commit,
      shortCommit: e.commit.slice(0, 12),
    });
    // Training cannot start before its code was committed: the commit time bounds the training start from
    // below, so a policy registered before it was registered before training. Unknown → SNAPSHOT lists it.
    const committed = e.committedAt ? Date.parse(e.committedAt) : NaN;
    if (Number.isFinite(committed)) candidate.trainingStartedAt = new Date(committed).toISOString();
    return buildRequest({
      modelName: model.model,
      candidate,
      incumbent: model.incumbent,
      datasets: model.datasets,
      codeCommit: e.commit,
      submittedBy: e.submittedBy.slice(0, 128),
      reason: e.reason.slice(0, 2000),
      trigger: { kind: 'commit', deliveryId: e.deliveryId },
      policy: model.policy,
    });
  }

  /** The mapping's output goes through the same schema as an API request; a failure is the mapping's (422). */
  function buildRequest(input: ReleaseRequestInput): ReleaseRequest {
    const parsed = ReleaseRequestSchema.safeParse(input);
    if (!parsed.success) {
      throw new ApiError(
        422,
        `the configured mapping for model ${input.modelName} produced an invalid release request`,
        {
          issues: fieldIssues(parsed.error.issues),
        },
      );
    }
    return parsed.data;
  }

  async function release(
    c: Context,
    r: {
      source: Source;
      deliveryKey: string;
      deliveryId: string;
      request: ReleaseRequest;
      concurrency: ConcurrencyPolicy;
    },
  ): Promise<Response> {
    const { request } = r;
    const releaseId = releaseIdFor(request, sha256Hex(canonicalBytes(request.policy)));
    const handle = client.workflow.getHandle(releaseId);
    const base = { deliveryId: r.deliveryId, releaseId };

    const before = await describeOrNull(handle);
    if (before !== null && before.status.name === 'RUNNING') {
      await ledger.record(r.deliveryKey, { releaseId, outcome: 'joined' });
      log.info({ ...base, source: r.source }, 'webhook: release already running');
      return c.json({ ...base, runId: before.runId, started: false }, 200);
    }
    if (before !== null) throw alreadyFinished(releaseId, before, RETRY_HINT);

    const inFlight = await listInFlight(request.modelName, releaseId);
    let decision = decideConcurrentCandidate(inFlight, r.concurrency);
    let note: string | undefined;
    if (typeof decision === 'object') {
      try {
        for (const id of decision.supersede) {
          await superseder.supersede(id, {
            reason: `superseded by ${releaseId} (${r.source} delivery ${r.deliveryId})`,
            supersededBy: releaseId,
          });
          log.info({ ...base, superseded: id }, 'webhook: superseded in-flight release');
        }
      } catch (err) {
        if (!(err instanceof SupersedeNotSupportedError)) throw err;
        note = err.message;
        decision = 'queue';
      }
    }
    if (decision === 'queue') {
      const behind = inFlight.map((x) => x.releaseId);
      await queue.enqueue({
        releaseId,
        modelName: request.modelName,
        deliveryKey: r.deliveryKey,
        behind,
        queuedAt: new Date(now()).toISOString(),
        request,
      });
      await ledger.record(r.deliveryKey, { releaseId, outcome: 'queued' });
      log.info({ ...base, source: r.source, behind }, 'webhook: candidate queued behind in-flight release');
      return c.json({ ...base, queued: true, started: false, behind, ...(note ? { note } : {}) }, 202);
    }

    const runId = await startReleaseWorkflow(client, request, releaseId, RETRY_HINT);
    await ledger.record(r.deliveryKey, { releaseId, outcome: 'started' });
    log.info({ ...base, runId, source: r.source, model: request.modelName }, 'webhook: release started');
    return c.json({ ...base, runId, started: true }, 201);
  }

  /** The model's running releases other than `own`, with their stage (visibility is eventually consistent). */
  async function listInFlight(model: string, own: string): Promise<InFlightRelease[]> {
    const out: InFlightRelease[] = [];
    // `model` is a validated slug: safe to quote into the visibility query.
    const query = `WorkflowType = 'releaseLifecycle' AND ExecutionStatus = 'Running' AND ${SearchAttr.model.name} = '${model}'`;
    for await (const wf of client.workflow.list({ query, pageSize: MAX_IN_FLIGHT_LISTED })) {
      if (wf.workflowId === own) continue;
      const stage = StageSchema.safeParse(wf.typedSearchAttributes.get(SearchAttr.stage));
      out.push({ releaseId: wf.workflowId, stage: stage.success ? stage.data : null });
      if (out.length >= MAX_IN_FLIGHT_LISTED) break;
    }
    return out;
  }
}

/** A webhook cannot bump `attempt`; the API can. */
const RETRY_HINT = 'submit it through POST /api/releases with a higher "attempt"';

const requireJson: MiddlewareHandler = async (c, next) => {
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new ApiError(
      415,
      'content-type must be application/json (for GitHub, set the webhook content type to application/json)',
    );
  }
  await next();
};

async function rawBody(c: Context): Promise<Uint8Array> {
  return new Uint8Array(await c.req.arrayBuffer());
}

function deliveryHeader(c: Context, name: string): string {
  const v = c.req.header(name);
  if (v === undefined || !DELIVERY_ID.test(v))
    throw new ApiError(400, `missing or malformed ${name} header (1-128 of A-Z a-z 0-9 . _ : -)`);
  return v;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(raw: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new ApiError(400, 'malformed JSON: body is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, `malformed JSON: ${(err as Error).message}`);
  }
}

function branchOf(ref: string): string | null {
  return ref.startsWith('refs/heads/') && ref.length > 'refs/heads/'.length ? ref.slice('refs/heads/'.length) : null;
}

/** Push time in ms: repository.pushed_at (set by GitHub, inside the signed body), else the head commit's time. */
function githubPushTime(push: z.output<typeof GitHubPushSchema>): number | null {
  const p = push.repository.pushed_at;
  if (typeof p === 'number') return p * 1000;
  if (typeof p === 'string') return Date.parse(p);
  const t = push.head_commit?.timestamp;
  return t ? Date.parse(t) : null;
}

function singleModel(found: ModelWebhookConfig[], what: string): ModelWebhookConfig {
  if (found.length === 0) throw new ApiError(422, `no model is configured for ${what}`);
  if (found.length > 1)
    throw new ApiError(
      422,
      `${what} is mapped to several models (${found.map((m) => m.model).join(', ')}); map it to one`,
    );
  return found[0]!;
}
