/**
 * The bundled demo model format: a logistic model as JSON. Real deployments bring ONNX;
 * both are artifacts pinned by digest, loaded only through parseModel.
 */
import { z } from 'zod';

export const LogisticModelSchema = z
  .object({
    format: z.literal('vigil.logistic/v1'),
    name: z.string().min(1),
    version: z.string().min(1),
    features: z.array(z.string().min(1)).min(1),
    weights: z.array(z.number().finite()),
    bias: z.number().finite(),
  })
  .refine((m) => m.weights.length === m.features.length, { message: 'one weight per feature' });
export type LogisticModel = z.infer<typeof LogisticModelSchema>;

export class ModelFormatError extends Error {
  override name = 'ModelFormatError';
}

export function parseModel(bytes: Uint8Array): LogisticModel {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw new ModelFormatError(`model is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = LogisticModelSchema.safeParse(json);
  if (!parsed.success) {
    throw new ModelFormatError(
      `model does not match vigil.logistic/v1: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}

/** Bind a model to a column order once, so scoring a row is a dot product with no lookups. */
export function bindScorer(model: LogisticModel, columns: readonly string[]): (features: ArrayLike<number>) => number {
  const index = model.features.map((f) => {
    const i = columns.indexOf(f);
    if (i < 0)
      throw new ModelFormatError(`model ${model.name}@${model.version} needs feature "${f}", which the data lacks`);
    return i;
  });
  return (features) => {
    let z = model.bias;
    for (let k = 0; k < index.length; k++) z += model.weights[k]! * features[index[k]!]!;
    return 1 / (1 + Math.exp(-z));
  };
}
