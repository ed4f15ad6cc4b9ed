import { z } from 'zod';

export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex SHA-256 digest');

/** A pointer to one immutable evidence object: what histories carry instead of data. */
export const EvidenceRefSchema = z.object({
  key: z.string().min(1),
  sha256: Sha256Hex,
  size: z.number().int().nonnegative(),
  versionId: z.string().optional(),
  mediaType: z.string().min(1),
});
export type EvidenceRef = z.infer<typeof EvidenceRefSchema>;

/** One link of a release's evidence chain, stored at releases/<releaseId>/chain/<seq>. */
export const ChainEntrySchema = z.object({
  releaseId: z.string().min(1),
  seq: z.number().int().nonnegative(),
  stage: z.string().min(1),
  /** Canary step or monitoring interval, where a stage repeats. */
  step: z.number().int().nonnegative().nullable(),
  prevEntryDigest: Sha256Hex.nullable(),
  artifacts: z.array(EvidenceRefSchema),
  decision: z.object({
    verdict: z.string().min(1),
    reasons: z.array(z.string()),
  }),
  at: z.string().datetime(),
});
export type ChainEntry = z.infer<typeof ChainEntrySchema>;

export interface ChainHead {
  seq: number;
  digest: string;
}
