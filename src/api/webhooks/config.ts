import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  ArtifactRefSchema,
  DatasetRefSchema,
  ModelRefSchema,
  ReleasePolicySchema,
  type ReleasePolicy,
  type ReleaseRequestInput,
} from '../../domain';

/**
 * The per-model webhook configuration (VIGIL_WEBHOOK_CONFIG → YAML, loaded once at API start).
 * It says which git pushes and data refreshes make a release of which model, and how the release
 * request is built: policy file, incumbent, datasets, and where the candidate artifact is found.
 * See config/webhooks.example.yaml.
 */

export class WebhookConfigError extends Error {
  override name = 'WebhookConfigError';
}

/** Template variables; which ones an event can fill is checked when the event arrives. */
export const TEMPLATE_VARIABLES = ['model', 'commit', 'shortCommit', 'datasetSha256', 'datasetShort'] as const;
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];
export type TemplateValues = Partial<Record<TemplateVariable, string>>;

const TEMPLATE_VAR = /\{([A-Za-z0-9]+)\}/g;

export function templateVariables(template: string): string[] {
  return [...template.matchAll(TEMPLATE_VAR)].map((m) => m[1]!);
}

/** Fills `{var}` placeholders; returns the missing variables instead when the event cannot fill them. */
export function fillTemplate(template: string, values: TemplateValues): { value: string } | { missing: string[] } {
  const missing = templateVariables(template).filter((v) => values[v as TemplateVariable] === undefined);
  if (missing.length > 0) return { missing };
  return { value: template.replace(TEMPLATE_VAR, (_, v: string) => values[v as TemplateVariable]!) };
}

const template = z
  .string()
  .min(1)
  .max(512)
  .superRefine((t, ctx) => {
    for (const v of templateVariables(t)) {
      if (!(TEMPLATE_VARIABLES as readonly string[]).includes(v)) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown template variable {${v}}; known: ${TEMPLATE_VARIABLES.map((x) => `{${x}}`).join(', ')}`,
        });
      }
    }
  });

const SAMPLE: Required<TemplateValues> = {
  model: 'm',
  commit: '0'.repeat(40),
  shortCommit: '0'.repeat(12),
  datasetSha256: '0'.repeat(64),
  datasetShort: '0'.repeat(12),
};

/** `owner/name` (GitHub) or `group/subgroup/name` (GitLab); matched case-insensitively. */
const repository = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/, 'must be a full repository path like "acme/sepsis-model"');
/** Branch names or globs: `*` matches within one path segment, `**` across segments. */
const branchPattern = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[^\s~^:?[\\]+$/, 'not a valid branch name or glob');

const GitSourceSchema = z
  .object({
    provider: z.enum(['github', 'gitlab']),
    repository,
    branches: z.array(branchPattern).min(1).max(32),
  })
  .strict();

const ModelWebhookSchema = z
  .object({
    model: z.string().regex(/^[a-z0-9][a-z0-9-]{0,47}$/, 'lowercase letters, digits and "-", at most 48'),
    /** Release policy (YAML/JSON), relative to the webhook config file. */
    policyFile: z.string().min(1),
    incumbent: ModelRefSchema,
    datasets: z.array(DatasetRefSchema).min(1).max(32),
    candidate: z
      .object({
        /** Evidence-store key of the candidate model artifact; its sha256 is read from the store. */
        keyTemplate: template,
        versionTemplate: template.default('{shortCommit}'),
      })
      .strict(),
    /** A second candidate while one is in flight: queue it, or supersede the older (pre-approval only). */
    concurrency: z.enum(['queue', 'supersede']).default('queue'),
    git: z.array(GitSourceSchema).max(16).default([]),
    /** Whether signed data-refresh events may release this model. */
    dataRefresh: z.boolean().default(false),
  })
  .strict()
  .superRefine((m, ctx) => {
    for (const [field, t] of [
      ['keyTemplate', m.candidate.keyTemplate],
      ['versionTemplate', m.candidate.versionTemplate],
    ] as const) {
      const filled = fillTemplate(t, { ...SAMPLE, model: m.model });
      if (!('value' in filled)) continue;
      const check =
        field === 'keyTemplate'
          ? ArtifactRefSchema.shape.key.safeParse(filled.value)
          : ModelRefSchema.shape.version.safeParse(filled.value);
      if (!check.success) {
        ctx.addIssue({
          code: 'custom',
          path: ['candidate', field],
          message: `filled in, it is not valid: ${check.error.issues[0]?.message}`,
        });
      }
    }
    if (!m.datasets.some((d) => d.role === 'evaluation')) {
      ctx.addIssue({ code: 'custom', path: ['datasets'], message: 'an evaluation dataset is required' });
    }
  });

export const WebhookFileSchema = z
  .object({
    version: z.literal(1),
    models: z.array(ModelWebhookSchema).min(1).max(256),
  })
  .strict()
  .superRefine((f, ctx) => {
    const seen = new Set<string>();
    f.models.forEach((m, i) => {
      if (seen.has(m.model))
        ctx.addIssue({ code: 'custom', path: ['models', i, 'model'], message: `model ${m.model} is configured twice` });
      seen.add(m.model);
    });
  });

/** `policyAsWritten`: the policy file as its author wrote it (what the pinned digest is of); `policy` is it filled in. */
export type ModelWebhookConfig = z.output<typeof ModelWebhookSchema> & {
  policy: ReleasePolicy;
  policyAsWritten?: WrittenPolicy;
};
/** A policy document as parsed from its file (JSON values only: it came from YAML). */
type WrittenPolicy = NonNullable<ReleaseRequestInput['policyAsWritten']>;
export interface WebhookConfig {
  models: ModelWebhookConfig[];
}

export function parseWebhookConfig(
  raw: unknown,
  policies: (file: string) => ReleasePolicy,
  source = 'webhook config',
  written?: (file: string) => WrittenPolicy,
): WebhookConfig {
  const parsed = WebhookFileSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(file)'}: ${i.message}`);
    throw new WebhookConfigError(`${source}: invalid webhook configuration:\n${lines.join('\n')}`);
  }
  return {
    models: parsed.data.models.map((m) => ({
      ...m,
      policy: policies(m.policyFile),
      ...(written ? { policyAsWritten: written(m.policyFile) } : {}),
    })),
  };
}

/** Read and validate the YAML file and every policy it names; any problem fails API start. */
export async function loadWebhookConfig(file: string): Promise<WebhookConfig> {
  const raw = await readYaml(file);
  const dir = path.dirname(path.resolve(file));
  const policyFiles = new Map<string, ReleasePolicy>();
  const writtenFiles = new Map<string, WrittenPolicy>();
  const probe = WebhookFileSchema.safeParse(raw);
  if (probe.success) {
    for (const m of probe.data.models) {
      const p = path.resolve(dir, m.policyFile);
      if (policyFiles.has(p)) continue;
      const doc = await readYaml(p);
      const parsed = ReleasePolicySchema.safeParse(doc);
      if (!parsed.success) {
        throw new WebhookConfigError(
          `${p}: invalid release policy: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        );
      }
      policyFiles.set(p, parsed.data);
      writtenFiles.set(p, doc as WrittenPolicy);
    }
  }
  return parseWebhookConfig(
    raw,
    (f) => policyFiles.get(path.resolve(dir, f))!,
    file,
    (f) => writtenFiles.get(path.resolve(dir, f))!,
  );
}

async function readYaml(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new WebhookConfigError(`${file}: cannot read: ${(err as Error).message}`);
  }
  try {
    return parseYaml(text) as unknown;
  } catch (err) {
    throw new WebhookConfigError(`${file}: not valid YAML: ${(err as Error).message}`);
  }
}

/** `main`, `release/*` (one segment), `feature/**` (any depth). */
export function branchMatches(pattern: string, branch: string): boolean {
  const re = pattern
    .split('**')
    .map((part) => part.split('*').map(escapeRegex).join('[^/]*'))
    .join('.*');
  return new RegExp(`^${re}$`).test(branch);
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The models a push to `repository`/`branch` releases. */
export function modelsForPush(
  config: WebhookConfig,
  provider: 'github' | 'gitlab',
  repo: string,
  branch: string,
): ModelWebhookConfig[] {
  const wanted = repo.toLowerCase();
  return config.models.filter((m) =>
    m.git.some(
      (g) =>
        g.provider === provider &&
        g.repository.toLowerCase() === wanted &&
        g.branches.some((b) => branchMatches(b, branch)),
    ),
  );
}
