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
  /** The signer's IANA time zone (from the account), so the record shows the signing time there and in UTC. */
  timeZone: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/, 'an IANA time zone such as Europe/Berlin')
    .optional(),
});
export type ApprovalInput = z.infer<typeof ApprovalInputSchema>;

export interface ApprovalResult {
  releaseId: string;
  accepted: true;
  signatureKey: string;
  pendingRoles: string[];
}

/**
 * A signer takes back their own approval while sign-off is still open. `signer` is the authenticated account
 * (the API fills it in, never from a request body); a withdrawn approval stops counting and stays on record.
 */
export const WithdrawalInputSchema = z.object({
  signer: z.string().min(1).max(128),
  reason: z.string().min(1).max(2000),
});
export type WithdrawalInput = z.infer<typeof WithdrawalInputSchema>;

export interface WithdrawalResult {
  releaseId: string;
  withdrawn: true;
  /** The withdrawn signature's record and the withdrawal's own record. */
  signatureKey: string;
  withdrawalKey: string;
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
