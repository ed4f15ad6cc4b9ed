import { z } from 'zod';

/** in-toto Attestation Framework Statement v1 and the predicates Vigil issues. */

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
export const VIGIL_EVALUATION_V1 = 'https://vigil.dev/evaluation/v1';
export const VIGIL_APPROVAL_V1 = 'https://vigil.dev/approval/v1';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'lowercase hex SHA-256');
const gitCommit = z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'full git commit id (SHA-1 or SHA-256)');
const timestamp = z.iso.datetime({ offset: true });

export const DigestSetSchema = z
  .record(z.string().min(1), z.string().regex(/^[0-9a-fA-F]+$/, 'hex digest'))
  .refine((d) => Object.keys(d).length > 0, 'at least one digest');

export const ResourceDescriptorSchema = z.object({
  name: z.string().min(1).optional(),
  uri: z.string().min(1).optional(),
  digest: DigestSetSchema.optional(),
  annotations: z.record(z.string(), z.unknown()).optional(),
});
export type ResourceDescriptor = z.infer<typeof ResourceDescriptorSchema>;

export const SubjectSchema = z.object({ name: z.string().min(1), digest: DigestSetSchema });
export type Subject = z.infer<typeof SubjectSchema>;

export const StatementSchema = z.object({
  _type: z.literal(STATEMENT_TYPE),
  subject: z.array(SubjectSchema).min(1),
  predicateType: z.string().url(),
  predicate: z.record(z.string(), z.unknown()),
});
export type Statement<P = Record<string, unknown>> = Omit<z.infer<typeof StatementSchema>, 'predicate'> & {
  predicate: P;
};

// ---- SLSA provenance v1 ------------------------------------------------------------------------------

export const SlsaProvenanceSchema = z.object({
  buildDefinition: z.object({
    buildType: z.string().url(),
    externalParameters: z.record(z.string(), z.unknown()),
    internalParameters: z.record(z.string(), z.unknown()).optional(),
    resolvedDependencies: z.array(ResourceDescriptorSchema).optional(),
  }),
  runDetails: z.object({
    builder: z.object({ id: z.string().url(), version: z.record(z.string(), z.string()).optional() }),
    metadata: z
      .object({
        invocationId: z.string().optional(),
        startedOn: timestamp.optional(),
        finishedOn: timestamp.optional(),
      })
      .optional(),
    byproducts: z.array(ResourceDescriptorSchema).optional(),
  }),
});
export type SlsaProvenance = z.infer<typeof SlsaProvenanceSchema>;

export const VIGIL_CANDIDATE_BUILD_TYPE = 'https://vigil.dev/candidate-build/v1';

export interface CandidateProvenanceInput {
  /** The model artifact being released. */
  candidate: { name: string; sha256: string };
  source: { repository: string; commit: string };
  /** Dataset manifests the candidate was trained/evaluated on (digest = SHA-256 of the manifest's RFC 8785 bytes). */
  datasets: { name: string; role: string; manifestSha256: string; merkleRoot: string }[];
  /** Environment pins: lockfile digest, container image digest, runtime versions... */
  environment: { lockfileSha256?: string; image?: { uri: string; sha256: string }; [k: string]: unknown };
  builder: { id: string; version?: Record<string, string> };
  invocationId?: string;
  startedOn?: string;
  finishedOn?: string;
}

export function candidateProvenanceStatement(input: CandidateProvenanceInput): Statement<SlsaProvenance> {
  const source = z.object({ repository: z.string().min(1), commit: gitCommit }).parse(input.source);
  const resolvedDependencies: ResourceDescriptor[] = [
    { uri: `git+${source.repository}@${source.commit}`, digest: { gitCommit: source.commit }, name: 'source' },
    ...input.datasets.map((d) => ({
      name: `dataset:${d.role}:${d.name}`,
      digest: { sha256: sha256Hex.parse(d.manifestSha256) },
      annotations: {
        merkleRoot: sha256Hex.parse(d.merkleRoot),
        role: d.role,
        mediaType: 'application/vnd.vigil.dataset-manifest+json',
      },
    })),
  ];
  if (input.environment.lockfileSha256)
    resolvedDependencies.push({
      name: 'lockfile',
      digest: { sha256: sha256Hex.parse(input.environment.lockfileSha256) },
    });
  if (input.environment.image)
    resolvedDependencies.push({
      name: 'image',
      uri: input.environment.image.uri,
      digest: { sha256: sha256Hex.parse(input.environment.image.sha256) },
    });
  const predicate = SlsaProvenanceSchema.parse({
    buildDefinition: {
      buildType: VIGIL_CANDIDATE_BUILD_TYPE,
      externalParameters: { source: { repository: source.repository, commit: source.commit } },
      internalParameters: { environment: input.environment },
      resolvedDependencies,
    },
    runDetails: {
      builder: input.builder,
      ...(input.invocationId || input.startedOn || input.finishedOn
        ? {
            metadata: {
              ...(input.invocationId ? { invocationId: input.invocationId } : {}),
              ...(input.startedOn ? { startedOn: input.startedOn } : {}),
              ...(input.finishedOn ? { finishedOn: input.finishedOn } : {}),
            },
          }
        : {}),
    },
  });
  return statement(
    [{ name: input.candidate.name, digest: { sha256: sha256Hex.parse(input.candidate.sha256) } }],
    SLSA_PROVENANCE_V1,
    predicate,
  );
}

// ---- Vigil evaluation --------------------------------------------------------------------------------

export const EvaluationPredicateSchema = z
  .object({
    /** The acceptance policy, registered before training: its digest is the pre-registration. */
    preRegistration: z.object({
      policyId: z.string().min(1),
      policyVersion: z.string().min(1),
      policyDigest: z.object({ sha256: sha256Hex }),
      registeredAt: timestamp,
    }),
    datasets: z.array(z.object({ name: z.string().min(1), role: z.string().min(1), manifestSha256: sha256Hex })).min(1),
    incumbent: z.object({ name: z.string().min(1), digest: z.object({ sha256: sha256Hex }) }).optional(),
    result: z.object({
      outcome: z.enum(['pass', 'fail']),
      reasons: z.array(z.string()),
      /** Digest of the stored measurements (per-slice metrics with CIs) the outcome was judged from. */
      measurementsDigest: z.object({ sha256: sha256Hex }),
    }),
    evaluatedAt: timestamp,
  })
  .refine((p) => Date.parse(p.preRegistration.registeredAt) <= Date.parse(p.evaluatedAt), {
    message: 'the acceptance policy must be registered before the evaluation',
    path: ['preRegistration', 'registeredAt'],
  });
export type EvaluationPredicate = z.infer<typeof EvaluationPredicateSchema>;

export function evaluationStatement(
  candidate: { name: string; sha256: string },
  predicate: EvaluationPredicate,
): Statement<EvaluationPredicate> {
  return statement(
    [{ name: candidate.name, digest: { sha256: sha256Hex.parse(candidate.sha256) } }],
    VIGIL_EVALUATION_V1,
    EvaluationPredicateSchema.parse(predicate),
  );
}

// ---- Vigil approval ----------------------------------------------------------------------------------

export const ApprovalPredicateSchema = z.object({
  releaseId: z.string().min(1),
  /** The dossier root the approver saw; approval binds to exactly this. */
  dossier: z.object({ sha256: sha256Hex }),
  approver: z.object({ id: z.string().min(1), name: z.string().min(1).optional(), role: z.string().min(1) }),
  decision: z.enum(['approve', 'reject']),
  /** 21 CFR 11.50: the meaning of the signature (e.g. review, approval, responsibility). */
  meaning: z.string().min(1),
  reason: z.string().optional(),
  signedAt: timestamp,
});
export type ApprovalPredicate = z.infer<typeof ApprovalPredicateSchema>;

export function approvalStatement(
  candidate: { name: string; sha256: string },
  predicate: ApprovalPredicate,
): Statement<ApprovalPredicate> {
  const p = ApprovalPredicateSchema.parse(predicate);
  return statement(
    [
      { name: candidate.name, digest: { sha256: sha256Hex.parse(candidate.sha256) } },
      { name: `dossier:${p.releaseId}`, digest: { sha256: p.dossier.sha256 } },
    ],
    VIGIL_APPROVAL_V1,
    p,
  );
}

/** Predicate schemas Vigil knows; `verifyAttestation` validates a known predicate against its schema. */
export const KNOWN_PREDICATES: Record<string, z.ZodType> = {
  [SLSA_PROVENANCE_V1]: SlsaProvenanceSchema,
  [VIGIL_EVALUATION_V1]: EvaluationPredicateSchema,
  [VIGIL_APPROVAL_V1]: ApprovalPredicateSchema,
};

export function statement<P>(subject: Subject[], predicateType: string, predicate: P): Statement<P> {
  return { _type: STATEMENT_TYPE, subject, predicateType, predicate };
}
