import { z } from 'zod';
import { ArtifactRefSchema, DatasetRefSchema, ModelRefSchema, Sha256Hex } from '../../domain';

/**
 * What Vigil reads from each webhook body. Only the fields used are declared; the rest of a
 * provider's (large) payload is ignored, not rejected.
 */

const gitSha = z.string().regex(/^[0-9a-f]{40}$/, 'must be a 40-character lowercase hex git commit');
const shortText = (max: number) => z.string().max(max);

/** https://docs.github.com/en/webhooks/webhook-events-and-payloads#push */
export const GitHubPushSchema = z.object({
  ref: z.string().min(1).max(1024),
  after: gitSha,
  deleted: z.boolean().optional(),
  repository: z.object({
    full_name: z.string().min(1).max(512),
    /** In push events GitHub sends the push time as unix seconds (other events: an ISO string). */
    pushed_at: z
      .union([z.number().int().nonnegative(), z.iso.datetime({ offset: true })])
      .nullable()
      .optional(),
  }),
  head_commit: z
    .object({ id: gitSha, timestamp: z.iso.datetime({ offset: true }), message: shortText(100_000).optional() })
    .nullable()
    .optional(),
  pusher: z.object({ name: shortText(255) }).optional(),
  sender: z.object({ login: shortText(255) }).optional(),
});
export type GitHubPush = z.infer<typeof GitHubPushSchema>;

/** https://docs.gitlab.com/user/project/integrations/webhook_events/#push-events */
export const GitLabPushSchema = z.object({
  object_kind: z.literal('push'),
  ref: z.string().min(1).max(1024),
  after: gitSha,
  /** null when the branch was deleted. */
  checkout_sha: gitSha.nullable(),
  project: z.object({ path_with_namespace: z.string().min(1).max(512) }),
  user_username: shortText(255).optional(),
  commits: z
    .array(z.object({ id: gitSha, message: shortText(100_000).optional(), timestamp: z.string().max(64).optional() }))
    .max(10_000)
    .optional(),
});
export type GitLabPush = z.infer<typeof GitLabPushSchema>;

/**
 * A data-refresh event, sent by the data platform, signed with Vigil's scheme. The refreshed dataset
 * is named by URI (`s3://<evidence bucket>/<key>` or a bare evidence-store key) and pinned by digest;
 * the candidate retrained on it is either given here or found through the model's keyTemplate.
 */
export const DataRefreshSchema = z
  .object({
    model: z.string().regex(/^[a-z0-9][a-z0-9-]{0,47}$/, 'lowercase letters, digits and "-", at most 48'),
    codeCommit: gitSha,
    dataset: z
      .object({
        role: DatasetRefSchema.shape.role,
        name: DatasetRefSchema.shape.name,
        uri: z.string().min(1).max(1024),
        sha256: Sha256Hex,
        format: DatasetRefSchema.shape.format,
      })
      .strict(),
    candidate: ModelRefSchema.optional(),
    submittedBy: shortText(128).min(1).optional(),
    reason: shortText(2000).min(1).optional(),
  })
  .strict();
export type DataRefresh = z.infer<typeof DataRefreshSchema>;

/** `s3://bucket/key` (bucket must be the evidence bucket, when known) or a bare key. */
export function datasetKeyFromUri(
  uri: string,
  evidenceBucket: string | undefined,
): { key: string } | { error: string } {
  let key = uri;
  const s3 = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (s3) {
    if (evidenceBucket !== undefined && s3[1] !== evidenceBucket) {
      return { error: `dataset uri names bucket "${s3[1]}", but Vigil reads evidence from "${evidenceBucket}"` };
    }
    key = s3[2]!;
  } else if (/^[a-z][a-z0-9+.-]*:/i.test(uri)) {
    return { error: 'dataset uri must be s3://<bucket>/<key> or an evidence-store key' };
  }
  const ok = ArtifactRefSchema.shape.key.safeParse(key);
  return ok.success ? { key } : { error: `dataset uri key: ${ok.error.issues[0]?.message}` };
}
