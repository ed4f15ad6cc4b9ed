import { z } from 'zod';
import { Sha256Hex } from './evidence';
import { RoleSchema } from './policy';

/** One e-signature submitted to a release awaiting approval. */
export const ApprovalInputSchema = z.object({
  signer: z.string().min(1).max(128),
  printedName: z.string().min(1).max(200),
  role: RoleSchema,
  decision: z.enum(['approve', 'reject']),
  meaning: z.string().min(3).max(200),
  reason: z.string().min(1).max(2000),
  /** The dossier root digest the signer reviewed: binds the signature to exactly that evidence. */
  dossierSha256: Sha256Hex,
});
export type ApprovalInput = z.infer<typeof ApprovalInputSchema>;

export interface ApprovalResult {
  releaseId: string;
  accepted: true;
  signatureKey: string;
  pendingRoles: string[];
}

/** Ends a pre-approval release because a newer candidate replaces it. */
export const SupersedeInputSchema = z.object({
  supersededBy: z.string().min(1).max(200),
  reason: z.string().min(1).max(2000),
});
export type SupersedeInput = z.infer<typeof SupersedeInputSchema>;

export interface SupersedeResult {
  releaseId: string;
  outcome: 'SUPERSEDED';
  chainEntry: string | null;
}
