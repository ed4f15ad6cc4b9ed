import { z } from 'zod';
import type { SignerAuthentication } from './approval';
import type { CanaryDecisionRecord, CanaryHold } from './canary-decision';
import { DatasetSchemaSchema } from './dataset-schema';
import { ModelInterfaceSchema } from './model-interface';
import { Sha256Hex, type ChainHead, type EvidenceRef } from './evidence';
import { ReleasePolicySchema, type Role } from './policy';
import type { ShadowAdjudicationStatus } from './shadow-adjudication';
import type { ReleaseExecution } from './execution';
import type { Decision, Outcome, Stage } from './stages';
import type { MeasuredBy } from './measurements';

const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,47}$/, 'lowercase letters, digits and "-", at most 48');
/** Evidence-store keys only: no absolute paths, no parent segments. */
const objectKey = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'must be a relative object key')
  .refine((k) => !k.split('/').includes('..'), 'must not contain ".." segments');

/** An immutable artifact in the evidence store, named by key and pinned by digest. */
export const ArtifactRefSchema = z.object({ key: objectKey, sha256: Sha256Hex });

export const ModelRefSchema = z.object({
  version: z.string().min(1).max(64),
  artifact: ArtifactRefSchema,
  /** How the artifact scores: a JSON logistic model, an ONNX graph, or a prediction file bound by its digest. */
  format: z.enum(['vigil.logistic/v1', 'onnx', 'vigil.predictions/v1']).default('vigil.logistic/v1'),
  /** Input feature order of a foreign ONNX model that carries no "vigil.features" metadata. */
  features: z.array(z.string().min(1).max(256)).min(1).max(4096).optional(),
  /** ONNX input and score output where the graph leaves a choice (the model card's interface; docs/models.md). */
  input: ModelInterfaceSchema.shape.input,
  output: ModelInterfaceSchema.shape.output,
  /** When training began (no earlier than its code commit); the acceptance criteria must be registered before it. */
  trainingStartedAt: z.iso.datetime().optional(),
});
export type ModelRef = z.infer<typeof ModelRefSchema>;

export const DatasetRefSchema = z.object({
  /** 'tuning': a split disjoint from the evaluation rows on which a data-chosen operating point is locked. */
  role: z.enum(['training', 'evaluation', 'tuning', 'reference']),
  name: z.string().min(1).max(128),
  artifact: ArtifactRefSchema,
  format: z.enum(['csv', 'parquet']).default('csv'),
  /** Columns, types and missing-value policies; without it the demo layout is assumed (see src/activities/dataset.ts). */
  schema: DatasetSchemaSchema.optional(),
  /** The dataset manifest (`vigil dataset manifest`) describing `artifact`; SNAPSHOT checks its provenance. */
  manifest: ArtifactRefSchema.optional(),
});
export type DatasetRef = z.infer<typeof DatasetRefSchema>;

export const TriggerSchema = z.object({
  /**
   * `revalidation`: queued by monitoring drift (`onDrift: revalidate`) for the model production serves; such a
   * release may name the same model as candidate and incumbent (it re-runs the gates on what is in service).
   */
  kind: z.enum(['commit', 'data_refresh', 'api', 'revalidation']),
  deliveryId: z.string().min(1).max(128).optional(),
});

/** Recursive equality of two JSON values (key order ignored); the domain takes no dependency for it. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return (
    ka.length === kb.length &&
    ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

/**
 * The request's fields. `policy` is the effective policy (defaults made explicit), which is what every stage
 * judges; `policyAsWritten` is the document its author wrote, as parsed (YAML or JSON), before defaults — the
 * policy digest pinned at SNAPSHOT is of its RFC 8785 form (src/evidence/policy-digest.ts). Requests recorded
 * before it existed carry none, and their digest was of the effective policy.
 */
export const ReleaseRequestObjectSchema = z
  .object({
    modelName: slug,
    candidate: ModelRefSchema,
    incumbent: ModelRefSchema,
    datasets: z.array(DatasetRefSchema).min(1).max(32),
    codeCommit: z.string().regex(/^[0-9a-f]{40}$/, 'must be a 40-character lowercase hex git commit'),
    submittedBy: z.string().min(1).max(128),
    reason: z.string().min(1).max(2000),
    trigger: TriggerSchema,
    policy: ReleasePolicySchema,
    /** The policy document as written (set from `policy` as given when absent; see ReleaseRequestSchema). */
    policyAsWritten: z.record(z.string(), z.json()).optional(),
    /** Model card input (YAML: intended use, population, limitations) shown in the dossier. */
    modelCard: ArtifactRefSchema.optional(),
    /** Releasing the same candidate under the same policy again (after it ended) needs a new attempt. */
    attempt: z.number().int().min(1).max(999).default(1),
  })
  .superRefine((r, ctx) => {
    if (!r.datasets.some((d) => d.role === 'evaluation')) {
      ctx.addIssue({ code: 'custom', path: ['datasets'], message: 'an evaluation dataset is required' });
    }
    if (r.policy.operatingPoint.kind !== 'fixed' && !r.datasets.some((d) => d.role === 'tuning')) {
      ctx.addIssue({
        code: 'custom',
        path: ['datasets'],
        message: `operating point "${r.policy.operatingPoint.kind}" is chosen on a tuning split: a dataset with role "tuning" is required`,
      });
    }
    for (const [arm, m] of [
      ['candidate', r.candidate],
      ['incumbent', r.incumbent],
    ] as const) {
      for (const field of ['features', 'input', 'output'] as const) {
        if (m[field] && m.format !== 'onnx') {
          ctx.addIssue({ code: 'custom', path: [arm, field], message: `${field} is only given for ONNX models` });
        }
      }
    }
    if (r.candidate.artifact.sha256 === r.incumbent.artifact.sha256 && r.trigger.kind !== 'revalidation') {
      ctx.addIssue({
        code: 'custom',
        path: ['candidate', 'artifact', 'sha256'],
        message: 'candidate is identical to the incumbent',
      });
    }
    if (r.policyAsWritten !== undefined) {
      const again = ReleasePolicySchema.safeParse(r.policyAsWritten);
      if (!again.success || !sameJson(again.data, r.policy)) {
        ctx.addIssue({
          code: 'custom',
          path: ['policyAsWritten'],
          message: 'the policy as written does not give the effective policy sent beside it',
        });
      }
    }
  });

/**
 * What a webhook, the CLI or the API asks for: everything is a reference, nothing is data. The policy as given
 * is kept as `policyAsWritten` before its defaults are filled in, so the pinned digest is of what the author
 * wrote; a request that already carries one (parsed once before: the CLI's plan, a workflow's input) keeps it,
 * and it must give the same effective policy.
 */
export const ReleaseRequestSchema = z.preprocess((raw) => {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const r = raw as Record<string, unknown>;
  return r.policyAsWritten === undefined && r.policy !== undefined ? { ...r, policyAsWritten: r.policy } : raw;
}, ReleaseRequestObjectSchema);
export type ReleaseRequest = z.infer<typeof ReleaseRequestSchema>;

/** The release's locked evaluation split (the request schema requires exactly this role to be present). */
export function evaluationSplit(request: Pick<ReleaseRequest, 'datasets'>): DatasetRef {
  const split = request.datasets.find((d) => d.role === 'evaluation');
  if (!split) throw new Error('release request without an evaluation split (the request schema requires one)');
  return split;
}
export type ReleaseRequestInput = z.input<typeof ReleaseRequestObjectSchema>;

/**
 * Workflow ids come from the business key (model, candidate digest, policy digest, attempt), so a
 * retried start finds the same release instead of starting a second one.
 */
export function releaseIdFor(
  req: Pick<ReleaseRequest, 'modelName' | 'attempt'> & { candidate: { artifact: { sha256: string } } },
  policySha256: string,
): string {
  return `${req.modelName}-${req.candidate.artifact.sha256.slice(0, 12)}-${policySha256.slice(0, 8)}-${req.attempt}`;
}

export interface StageRecord {
  stage: Stage;
  /** Canary step or monitoring interval index, where the stage repeats. */
  step: number | null;
  startedAt: string;
  endedAt: string | null;
  decision: Decision | null;
  artifacts: EvidenceRef[];
  /** Digest of the chain entry that recorded this decision. */
  chainEntry: string | null;
  /** How the decision's live measurement was taken (SHADOW, CANARY, MONITORING); absent in earlier histories. */
  measured?: MeasuredBy;
}

export interface SignatureRecord {
  signer: string;
  printedName: string;
  role: Role;
  decision: 'approve' | 'reject';
  meaning: string;
  reason: string;
  at: string;
  dossierSha256: string;
  /** The signer's IANA time zone when they signed; absent in records made before it was recorded (shown as UTC only). */
  timeZone?: string;
  /** The OpenID provider's re-authentication for this signature (issuer, subject, auth_time, amr/acr, ID token hash). */
  authentication?: SignerAuthentication;
  evidence: EvidenceRef;
  /** Set when the signer withdrew this approval: it no longer counts, but stays on record with its withdrawal. */
  withdrawal?: WithdrawalRecord;
}

export interface WithdrawalRecord {
  at: string;
  reason: string;
  /** The OpenID provider's re-authentication for this withdrawal; absent for password withdrawals and older records. */
  authentication?: SignerAuthentication;
  evidence: EvidenceRef;
}

export interface RouteState {
  version: number;
  production: string;
  /**
   * `salt`: the release id when the policy salts the canary per release (`canary.saltPerRelease`); the gateway then
   * draws the canary's patients with it besides the model name (absent: the model name only).
   */
  canary: { model: string; percent: number; salt?: string } | null;
  /**
   * Mirror this share of production requests to `model` (the gateway records its answers, nothing reaches care).
   * Set during SHADOW and removed (null) once the shadow is measured; absent in tables written before it existed.
   */
  shadow?: { model: string; percent: number } | null;
}

/** What the `releaseStatus` query answers: small, references only. */
export interface ReleaseStatus {
  releaseId: string;
  modelName: string;
  candidateVersion: string;
  incumbentVersion: string;
  submittedBy: string;
  stage: Stage;
  outcome: Outcome | null;
  reason: string | null;
  policy: { id: string; version: string; sha256: string | null };
  requiredRoles: Role[];
  pendingRoles: Role[];
  dossier: EvidenceRef | null;
  signatures: SignatureRecord[];
  routes: RouteState | null;
  chainHead: ChainHead | null;
  history: StageRecord[];
  approvalDeadline: string | null;
  /** Clinical adjudication of shadow disagreements; present once SHADOW has a sample to adjudicate. */
  shadowAdjudication?: ShadowAdjudicationStatus;
  /** Present once the canary has waited for a person (pause step or escalation). */
  canaryHold?: CanaryHold | null;
  canaryDecisions?: CanaryDecisionRecord[];
  /** The run as Temporal describes it (set by the API): failed runs and retried activities show here. */
  execution?: ReleaseExecution;
  /**
   * The outcome decided but its chain entry not yet stored: `stage` and `outcome` still show the release as
   * unfinished, since an outcome is reported only once it is on record.
   */
  finishing?: Outcome;
}

export interface ReleaseResult {
  releaseId: string;
  outcome: Outcome;
  reason: string;
  chainHead: ChainHead | null;
}
