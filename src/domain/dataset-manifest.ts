import { z } from 'zod';

/**
 * Dataset provenance: the lineage file a data engineer writes (`DatasetLineageSchema`) and the manifest
 * `vigil dataset manifest` derives from it plus the data file (`DatasetManifestSchema`).
 *
 * Provenance fields are optional in the schema on purpose: a structurally valid but incomplete lineage still
 * parses, and `missingProvenanceFields` lists what is absent, so the SNAPSHOT gate can refuse with reasons
 * instead of a parse error. Values that are present must be well-formed (counts are non-negative integers,
 * dates are ISO 8601, digests are lowercase hex).
 */

export const DATASET_MANIFEST_SCHEMA_VERSION = 'vigil.dev/dataset-manifest/v1';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'lowercase hex SHA-256');
const text = z.string().trim().min(1).max(10_000);
const shortText = z.string().trim().min(1).max(256);
const count = z.number().int().min(0);
const isoDate = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

export const RawSourceSchema = z.object({
  id: shortText,
  /** Source system, e.g. "Epic Clarity (site A)" or "PACS export". */
  system: shortText.optional(),
  extraction: z
    .object({
      query: text.optional(),
      queryVersion: shortText.optional(),
    })
    .optional(),
  collectionWindow: z
    .object({
      start: isoDate.optional(),
      end: isoDate.optional(),
    })
    .optional(),
});
export type RawSource = z.infer<typeof RawSourceSchema>;

export const ExclusionRuleSchema = z.object({
  id: shortText,
  description: text.optional(),
  /** Records this rule removed (applied in list order, so each count is net of earlier rules). */
  removedCount: count.optional(),
});
export type ExclusionRule = z.infer<typeof ExclusionRuleSchema>;

export const InterRaterAgreementSchema = z.object({
  method: z.enum(['cohen', 'fleiss']),
  kappa: z.number(),
  /** Cohen: Cohen (1960) large-sample SE; Fleiss: Fleiss, Nee & Landis (1979) SE under κ = 0. */
  standardError: z.number().nonnegative().optional(),
  observedAgreement: z.number().min(0).max(1),
  expectedAgreement: z.number().min(0).max(1),
  raters: z.number().int().min(2),
  subjects: z.number().int().min(1),
  categories: z.array(z.string()).min(1),
  /** The multi-rater label file the agreement was computed from (digest of its bytes). */
  labelFile: z.object({ name: shortText, sha256: sha256Hex }).optional(),
});
export type InterRaterAgreement = z.infer<typeof InterRaterAgreementSchema>;

/**
 * Where the labels come from. Most registries and public datasets carry one recorded label per case (a diagnosis, a
 * lab result, one reader's call): that is honest provenance as long as the lineage says so. Inter-rater agreement
 * exists only for `multi-reader` / `adjudicated-panel` labels (the step's `raterLabelsFile`).
 */
export const LABEL_SOURCE_KINDS = [
  /** The diagnosis recorded in a clinical system or registry (one label per case, no second reader). */
  'registry-diagnosis',
  /** One qualified reader labelled each case. */
  'single-reader',
  /** An objective outcome or test result (e.g. culture, histopathology, follow-up event). */
  'outcome-derived',
  /** Two or more independent readers per case (agreement measurable). */
  'multi-reader',
  /** Independent readers, disagreements settled by a panel (agreement measurable). */
  'adjudicated-panel',
  'other',
] as const;
export const LabelSourceKindSchema = z.enum(LABEL_SOURCE_KINDS);
export type LabelSourceKind = z.infer<typeof LabelSourceKindSchema>;
/** Kinds with one label per case: a rater-labels file (and so κ) cannot exist for them. */
export const SINGLE_SOURCE_LABEL_KINDS: readonly LabelSourceKind[] = [
  'registry-diagnosis',
  'single-reader',
  'outcome-derived',
];
export const LabelSourceSchema = z.object({
  kind: LabelSourceKindSchema,
  /** Who or what made the labels, in words a reviewer can check (system, role, criteria). */
  description: text,
});
export type LabelSource = z.infer<typeof LabelSourceSchema>;

const FeatureSchema = z.object({ name: shortText, definition: text.optional(), dtype: shortText.optional() });
const NormalisationSchema = z.object({
  feature: shortText,
  method: shortText,
  /** Statistics the transform was fitted with, e.g. {mean, std} or {min, max}. */
  statistics: z.record(z.string(), z.number()),
  /** Which split the statistics were fitted on (should be the training split only). */
  fittedOn: shortText.optional(),
});

export const SplitProportionsSchema = z
  .record(z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/), z.number().gt(0).max(1))
  .refine((p) => Object.keys(p).length >= 1, 'at least one split')
  .refine((p) => Math.abs(Object.values(p).reduce((a, b) => a + b, 0) - 1) < 1e-9, 'split proportions must sum to 1');

export const LineageStepSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('extraction'),
    sourceIds: z.array(shortText).optional(),
    description: text.optional(),
    outputCount: count.optional(),
  }),
  z.object({
    kind: z.literal('filtering'),
    inputCount: count.optional(),
    exclusionRules: z.array(ExclusionRuleSchema).optional(),
    outputCount: count.optional(),
  }),
  z.object({
    kind: z.literal('labelling'),
    labelPolicyVersion: shortText.optional(),
    labellerQualification: text.optional(),
    adjudicationRule: text.optional(),
    /** Where the labels come from; required unless the step carries rater labels (then agreement is measured). */
    labelSource: LabelSourceSchema.optional(),
    /** Lineage input: path (relative to the lineage file) of a long-format CSV `subject,rater,label`. */
    raterLabelsFile: shortText.optional(),
    /** Manifest output: computed by Vigil from `raterLabelsFile`, never copied from the lineage file. */
    interRaterAgreement: InterRaterAgreementSchema.optional(),
  }),
  z.object({
    kind: z.literal('augmentation'),
    description: text.optional(),
    methods: z.array(shortText).optional(),
  }),
  z.object({
    kind: z.literal('featureGeneration'),
    features: z.array(FeatureSchema).optional(),
    normalisation: z.array(NormalisationSchema).optional(),
  }),
  z.object({
    kind: z.literal('assembly'),
    samplingLogic: text.optional(),
    split: z
      .object({
        /** Column holding the patient id; its values are only ever hashed with a keyed HMAC. */
        patientIdColumn: shortText,
        /** Name of the HMAC key (the secret itself is supplied at build time, never written). */
        keyId: shortText,
        proportions: SplitProportionsSchema,
      })
      .optional(),
  }),
]);
export type LineageStep = z.infer<typeof LineageStepSchema>;
export type LineageStepKind = LineageStep['kind'];

/** The hand-written lineage file (YAML or JSON) given to `vigil dataset manifest`. */
export const DatasetLineageSchema = z.object({
  dataset: z.object({ name: shortText, version: shortText, description: text.optional() }),
  sources: z.array(RawSourceSchema).optional(),
  steps: z
    .array(LineageStepSchema)
    .optional()
    .superRefine((steps, ctx) => {
      (steps ?? []).forEach((step, i) => {
        // One label per case and a multi-rater label file contradict each other.
        if (
          step.kind === 'labelling' &&
          step.labelSource &&
          SINGLE_SOURCE_LABEL_KINDS.includes(step.labelSource.kind) &&
          (step.raterLabelsFile !== undefined || step.interRaterAgreement !== undefined)
        ) {
          ctx.addIssue({
            code: 'custom',
            path: [i, 'labelSource', 'kind'],
            message: `labelSource ${step.labelSource.kind} has one label per case, but the step names rater labels: use multi-reader or adjudicated-panel, or drop the rater labels`,
          });
        }
        if (step.kind !== 'filtering' || step.inputCount === undefined || step.outputCount === undefined) return;
        const removed = (step.exclusionRules ?? []).map((r) => r.removedCount);
        if (removed.some((r) => r === undefined)) return;
        const total = removed.reduce<number>((a, b) => a + (b ?? 0), 0);
        if (step.inputCount - total !== step.outputCount) {
          ctx.addIssue({
            code: 'custom',
            path: [i, 'outputCount'],
            message: `inputCount ${step.inputCount} minus removed ${total} is ${step.inputCount - total}, not outputCount ${step.outputCount}`,
          });
        }
      });
    }),
});
export type DatasetLineage = z.infer<typeof DatasetLineageSchema>;

export const ColumnSummarySchema = z.object({
  name: z.string(),
  /** Null cells: empty strings in CSV, nulls in Parquet. */
  nulls: count,
  /** Present when every non-null cell parses as a finite number. */
  numeric: z.object({ min: z.number(), max: z.number(), mean: z.number(), std: z.number().nonnegative() }).optional(),
});

export const DatasetManifestSchema = z.object({
  schemaVersion: z.literal(DATASET_MANIFEST_SCHEMA_VERSION),
  dataset: DatasetLineageSchema.shape.dataset,
  file: z.object({
    name: shortText,
    format: z.enum(['csv', 'parquet']),
    bytes: count,
    sha256: sha256Hex,
  }),
  lineageSha256: sha256Hex,
  sources: z.array(RawSourceSchema).optional(),
  steps: DatasetLineageSchema.shape.steps,
  columns: z.array(ColumnSummarySchema),
  rows: z.object({
    count,
    /** Exact, human-readable definition of the row digest, so a reviewer can recompute it. */
    rowDigestMethod: z.string(),
    merkle: z.object({
      /** RFC 9162 §2.1 Merkle Tree Hash with SHA-256 over the row digests. */
      algorithm: z.literal('rfc9162-sha256'),
      treeSize: count,
      root: sha256Hex,
    }),
  }),
  split: z
    .object({
      method: z.string(),
      keyId: shortText,
      patientIdColumn: shortText,
      proportions: SplitProportionsSchema,
      rowCounts: z.record(z.string(), count),
    })
    .optional(),
});
export type DatasetManifest = z.infer<typeof DatasetManifestSchema>;

const REQUIRED_STEPS: readonly LineageStepKind[] = ['extraction', 'filtering', 'labelling', 'assembly'];

/**
 * Provenance a release needs that this manifest (or lineage) lacks, as JSON-path-like strings, e.g.
 * `sources[0].extraction.queryVersion` or `steps[kind=labelling].interRaterAgreement`. Empty = complete.
 * Works on a lineage file too, except that there the computed agreement is not expected yet.
 */
export function missingProvenanceFields(doc: {
  sources?: RawSource[] | undefined;
  steps?: LineageStep[] | undefined;
  schemaVersion?: string | undefined;
  rows?: unknown;
}): string[] {
  const isManifest = doc.schemaVersion !== undefined;
  const missing: string[] = [];
  const need = (present: unknown, path: string): void => {
    if (present === undefined || (Array.isArray(present) && present.length === 0)) missing.push(path);
  };

  need(doc.sources, 'sources');
  (doc.sources ?? []).forEach((s, i) => {
    const p = `sources[${i}]`;
    need(s.system, `${p}.system`);
    need(s.extraction?.query, `${p}.extraction.query`);
    need(s.extraction?.queryVersion, `${p}.extraction.queryVersion`);
    need(s.collectionWindow?.start, `${p}.collectionWindow.start`);
    need(s.collectionWindow?.end, `${p}.collectionWindow.end`);
  });

  const steps = doc.steps ?? [];
  for (const kind of REQUIRED_STEPS) {
    if (!steps.some((s) => s.kind === kind)) missing.push(`steps[kind=${kind}]`);
  }
  steps.forEach((step, i) => {
    const p = `steps[${i}]`;
    switch (step.kind) {
      case 'extraction':
        need(step.outputCount, `${p}.outputCount`);
        break;
      case 'filtering':
        need(step.inputCount, `${p}.inputCount`);
        need(step.exclusionRules, `${p}.exclusionRules`);
        (step.exclusionRules ?? []).forEach((r, j) => {
          need(r.description, `${p}.exclusionRules[${j}].description`);
          need(r.removedCount, `${p}.exclusionRules[${j}].removedCount`);
        });
        need(step.outputCount, `${p}.outputCount`);
        break;
      case 'labelling':
        need(step.labelPolicyVersion, `${p}.labelPolicyVersion`);
        need(step.labellerQualification, `${p}.labellerQualification`);
        need(step.adjudicationRule, `${p}.adjudicationRule`);
        // Labels either say where they come from or carry the rater labels agreement is measured on.
        if (isManifest) need(step.labelSource ?? step.interRaterAgreement, `${p}.labelSource`);
        else need(step.labelSource ?? step.raterLabelsFile, `${p}.labelSource`);
        // Several readers per case is a claim the rater labels back (and agreement is then measured).
        if (
          step.labelSource &&
          !SINGLE_SOURCE_LABEL_KINDS.includes(step.labelSource.kind) &&
          step.labelSource.kind !== 'other'
        ) {
          if (isManifest) need(step.interRaterAgreement, `${p}.interRaterAgreement`);
          else need(step.raterLabelsFile, `${p}.raterLabelsFile`);
        }
        break;
      case 'augmentation':
        need(step.description, `${p}.description`);
        break;
      case 'featureGeneration':
        need(step.features, `${p}.features`);
        (step.features ?? []).forEach((f, j) => need(f.definition, `${p}.features[${j}].definition`));
        need(step.normalisation, `${p}.normalisation`);
        break;
      case 'assembly':
        need(step.samplingLogic, `${p}.samplingLogic`);
        need(step.split, `${p}.split`);
        break;
    }
  });
  if (isManifest) need(doc.rows, 'rows');
  return missing;
}

/**
 * Inter-rater agreement a policy with `provenance.requireLabelAgreement` demands and this manifest lacks: every
 * labelling step must carry the agreement Vigil computed from its rater labels.
 */
export function missingLabelAgreement(manifest: { steps?: LineageStep[] | undefined } | null): string[] {
  if (manifest === null) return [];
  const missing: string[] = [];
  (manifest.steps ?? []).forEach((step, i) => {
    if (step.kind === 'labelling' && !step.interRaterAgreement) missing.push(`steps[${i}].interRaterAgreement`);
  });
  return missing;
}

/**
 * How the labels were made: the labelling step's `labelSource`, else `multi-reader` when it carries measured
 * agreement (lineages written before `labelSource` existed); null when the manifest says neither.
 */
export function labelSourceOf(manifest: { steps?: LineageStep[] | undefined } | null): LabelSource | null {
  const step = manifest?.steps?.find((s) => s.kind === 'labelling');
  if (!step || step.kind !== 'labelling') return null;
  if (step.labelSource) return step.labelSource;
  const a = step.interRaterAgreement;
  if (a)
    return {
      kind: 'multi-reader',
      description: `${a.raters} raters on ${a.subjects} subjects (${a.method} κ ${a.kappa.toFixed(3)})`,
    };
  return null;
}

/** JSON Schemas for editors and for auditors who don't read TypeScript. */
export function datasetLineageJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(DatasetLineageSchema, { io: 'input' }) as Record<string, unknown>;
}
export function datasetManifestJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(DatasetManifestSchema, { io: 'output' }) as Record<string, unknown>;
}
