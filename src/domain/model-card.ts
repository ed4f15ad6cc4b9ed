import { z } from 'zod';
import { ModelCardInterfaceSchema } from './model-interface';

/**
 * Model card input (`demo/model-card.yaml`, `test/fixtures/own-model/model-card.yaml`): what the dossier says
 * about intended use, population and limits, and, for ONNX models, how to feed and read them (`interface`,
 * see docs/models.md).
 */
export const ModelCardSchema = z.object({
  model: z.string().min(1).max(128),
  intendedUse: z.string().min(1).max(4000),
  /** Who the model is for: setting, inclusion, exclusions. */
  population: z.string().min(1).max(4000),
  users: z.string().min(1).max(2000).optional(),
  limitations: z.array(z.string().min(1).max(2000)).min(1),
  contraindications: z.array(z.string().min(1).max(2000)).optional(),
  /** Feature order, input and score output of the model's ONNX exports; resolve per version with interfaceForVersion. */
  interface: ModelCardInterfaceSchema.optional(),
});
export type ModelCard = z.infer<typeof ModelCardSchema>;
