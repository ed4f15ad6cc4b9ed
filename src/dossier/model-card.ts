import { z } from 'zod';

/** Model card input (`demo/model-card.yaml`): what the dossier says about intended use, population and limits. */
export const ModelCardSchema = z.object({
  model: z.string().min(1).max(128),
  intendedUse: z.string().min(1).max(4000),
  /** Who the model is for: setting, inclusion, exclusions. */
  population: z.string().min(1).max(4000),
  users: z.string().min(1).max(2000).optional(),
  limitations: z.array(z.string().min(1).max(2000)).min(1),
  contraindications: z.array(z.string().min(1).max(2000)).optional(),
});
export type ModelCard = z.infer<typeof ModelCardSchema>;
