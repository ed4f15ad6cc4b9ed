/**
 * From a delivery to a release request through the model's configured mapping: the model a push maps to, the
 * candidate artifact from the templates (resolved in the evidence store), and the request's schema check.
 */
import { ReleaseRequestSchema, type ReleaseRequest, type ReleaseRequestInput } from '../../domain';
import { ApiError, fieldIssues } from '../errors';
import { fillTemplate, type ModelWebhookConfig, type TemplateValues } from './config';
import type { WebhookContext } from './context';

/** The branch name of a `refs/heads/…` ref; null for tags and anything else. */
export function branchOf(ref: string): string | null {
  return ref.startsWith('refs/heads/') && ref.length > 'refs/heads/'.length ? ref.slice('refs/heads/'.length) : null;
}

/** Exactly one model must be mapped to a push (422 otherwise). */
export function singleModel(found: ModelWebhookConfig[], what: string): ModelWebhookConfig {
  if (found.length === 0) throw new ApiError(422, `no model is configured for ${what}`);
  if (found.length > 1)
    throw new ApiError(
      422,
      `${what} is mapped to several models (${found.map((m) => m.model).join(', ')}); map it to one`,
    );
  return found[0]!;
}

/** The candidate named by the model's templates; it must already be in the evidence store (422 if not). */
export async function candidateFor(
  ctx: WebhookContext,
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
    sha256 = await ctx.deps.resolver.sha256Of(key.value);
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
      { artifactKey: key.value },
    );
  }
  return { version: version.value, artifact: { key: key.value, sha256 } };
}

/** A git push (GitHub or GitLab) as a release request of the mapped model. */
export async function gitRelease(
  ctx: WebhookContext,
  model: ModelWebhookConfig,
  e: { commit: string; submittedBy: string; reason: string; deliveryId: string; committedAt?: string | undefined },
): Promise<ReleaseRequest> {
  const candidate = await candidateFor(ctx, model, {
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
    ...(model.policyAsWritten ? { policyAsWritten: model.policyAsWritten } : {}),
  });
}

/** The mapping's output goes through the same schema as an API request; a failure is the mapping's (422). */
export function buildRequest(input: ReleaseRequestInput): ReleaseRequest {
  const parsed = ReleaseRequestSchema.safeParse(input);
  if (!parsed.success) {
    throw new ApiError(422, `the configured mapping for model ${input.modelName} produced an invalid release request`, {
      issues: fieldIssues(parsed.error.issues),
    });
  }
  return parsed.data;
}
