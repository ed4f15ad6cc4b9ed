/**
 * How Vigil feeds an ONNX model and reads its score: which input takes the feature matrix and in what column
 * order, which output holds the positive class's probability, and whether that output is a logit. Every
 * field is optional: the loader detects what the graph makes unambiguous (see docs/models.md) and refuses,
 * naming the choice, what it cannot tell.
 */
import { z } from 'zod';

const featureName = z.string().min(1).max(256);
const tensorName = z.string().min(1).max(256);

export const ModelOutputSpecSchema = z
  .object({
    /** Graph output holding the scores (a ZipMap output may be named: its probability tensor is read). */
    name: tensorName.optional(),
    /**
     * The class whose probability is the score, as the exporter labels classes: the class label of an
     * ai.onnx.ml classifier or ZipMap (1, "malignant"), else the column index of an [N, C] tensor. For a
     * single-column output, 1 (the default) means the value is this class's probability, 0 its complement.
     */
    positiveClass: z.union([z.number().int().min(0), z.string().min(1).max(256)]).optional(),
    /** 'logit': Vigil applies the sigmoid (softmax across [N, C]). Required where the graph does not show it. */
    scale: z.enum(['probability', 'logit']).optional(),
  })
  .strict();
export type ModelOutputSpec = z.infer<typeof ModelOutputSpecSchema>;

const interfaceShape = {
  /** Feature names in the order of the input's columns. Required unless the model carries "vigil.features". */
  features: z
    .array(featureName)
    .min(1)
    .max(4096)
    .refine((f) => new Set(f).size === f.length, 'feature names must not repeat')
    .optional(),
  /** Graph input that takes the [N, F] feature matrix; needed only when the graph has several inputs. */
  input: tensorName.optional(),
  output: ModelOutputSpecSchema.optional(),
};

export const ModelInterfaceSchema = z.object(interfaceShape).strict();
export type ModelInterface = z.infer<typeof ModelInterfaceSchema>;

/** A model card's `interface`: one for every version, with `versions` overriding it where an export differs. */
export const ModelCardInterfaceSchema = z
  .object({
    ...interfaceShape,
    /** Per-version overrides, keyed by the version named in the release request. */
    versions: z.record(z.string().min(1).max(64), ModelInterfaceSchema).optional(),
  })
  .strict();
export type ModelCardInterface = z.infer<typeof ModelCardInterfaceSchema>;

/**
 * A model card's interface for one version: the card-wide interface with the version's own entry laid over
 * it field by field (`output` fields one by one), so a card lists features once and a version names only
 * what its export does differently.
 */
export function interfaceForVersion(
  card: { interface?: ModelCardInterface | undefined },
  version: string,
): ModelInterface {
  const { versions, ...base } = card.interface ?? {};
  const own = versions?.[version] ?? {};
  const output = base.output || own.output ? { ...base.output, ...own.output } : undefined;
  return {
    ...((own.features ?? base.features) ? { features: own.features ?? base.features } : {}),
    ...((own.input ?? base.input) ? { input: own.input ?? base.input } : {}),
    ...(output ? { output } : {}),
  };
}
