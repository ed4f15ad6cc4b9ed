import { z } from 'zod';
import { Sha256Hex } from './evidence';

/**
 * The model card each release writes as evidence, in the structure of the model card in FDA's draft guidance
 * "Artificial Intelligence-Enabled Device Software Functions: Lifecycle Management and Marketing Submission
 * Recommendations" (January 2025): model description, inputs and outputs, intended use, development and test
 * data, performance (overall and by subgroup), limitations, monitoring and update plan. Every value is filled
 * from the release's own evidence (src/dossier/fda-model-card.ts); nothing is typed in by hand except what the
 * manufacturer's input card says about intended use and limitations.
 */
export const FDA_MODEL_CARD_KIND = 'vigil.model-card/v1';

const text = z.string().max(8000);
const num = z.number().nullable();
const MetricSchema = z.object({ estimate: num, lower: num, upper: num });
const SubgroupSchema = z.object({
  /** "overall", or "<attribute>=<value>" as the evaluation report names its slices. */
  subgroup: z.string().min(1).max(200),
  n: z.number().int().min(0),
  positives: z.number().int().min(0),
  candidate: z.record(z.string(), MetricSchema),
  incumbent: z.record(z.string(), MetricSchema),
});

export const FdaModelCardSchema = z
  .object({
    kind: z.literal(FDA_MODEL_CARD_KIND),
    releaseId: z.string().min(1).max(300),
    generatedAt: z.iso.datetime(),
    modelDescription: z.object({
      name: z.string().min(1).max(128),
      version: z.string().min(1).max(64),
      artifactSha256: Sha256Hex,
      format: z.string().max(64),
      replaces: z.object({ version: z.string().max(64), artifactSha256: Sha256Hex }),
      codeCommit: z.string().max(200),
      /** What changed against the model in use (code, data, model, label policy, feature schema). */
      changed: z.array(z.string()).nullable(),
      changeClass: z.enum(['withinPlan', 'substantial']).nullable(),
    }),
    inputsOutputs: z.object({
      /** Feature names in the order the model takes them; null when the card does not name them. */
      inputs: z.array(z.string()).nullable(),
      output: text,
      operatingThreshold: z.number(),
      operatingPoint: text,
    }),
    intendedUse: z.object({
      intendedUse: text.nullable(),
      population: text.nullable(),
      users: text.nullable(),
      contraindications: z.array(text),
    }),
    data: z.array(
      z.object({
        role: z.string().max(64),
        name: z.string().max(200),
        version: z.string().max(64).nullable(),
        rows: z.number().int().nullable(),
        sources: z.array(text),
        labelMethod: text.nullable(),
        labelPolicyVersion: z.string().max(200).nullable(),
        /** Inter-rater agreement where it was measured; null otherwise (never assumed). */
        agreement: z.object({ method: z.string().max(200), kappa: z.number() }).nullable(),
        exclusions: z.array(z.object({ rule: text, removed: z.number().int().nullable() })),
        fileSha256: Sha256Hex,
        manifestSha256: Sha256Hex.nullable(),
      }),
    ),
    performance: z.object({
      /** Locked evaluation cases; null when no offline report was recorded. */
      evaluationCases: z.number().int().nullable(),
      criteriaRegisteredAt: z.string().max(64),
      criteria: z.array(z.object({ id: z.string().max(200), status: z.string().max(32), reason: text })),
      subgroups: z.array(SubgroupSchema),
      shadow: z
        .object({
          source: z.string().max(64).nullable(),
          cases: z.number().int(),
          agreement: num,
          kappa: num,
        })
        .nullable(),
    }),
    limitations: z.array(text),
    monitoringAndUpdates: z.object({
      shadow: text,
      canary: z.array(text),
      guardrails: text,
      monitoring: text,
      rollback: text,
      changeControlPlan: text,
    }),
    /** The evidence each part was filled from (key and digest), so a reader can check it. */
    filledFrom: z.array(z.object({ what: z.string().max(300), key: z.string().max(400), sha256: Sha256Hex })),
  })
  .strict();
export type FdaModelCard = z.infer<typeof FdaModelCardSchema>;

/** The JSON Schema committed as schemas/model-card.schema.json. */
export function fdaModelCardJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(FdaModelCardSchema, { unrepresentable: 'any' }),
    title: 'Vigil model card (FDA draft guidance on AI-enabled device software functions, January 2025)',
  } as Record<string, unknown>;
}
