import { z } from 'zod';
import { Sha256Hex } from './evidence';
import { RoleSchema } from './policy';

/**
 * How the signer proved who they were at the moment of signing, when an OpenID provider authenticated them
 * (src/auth/oidc): the provider's issuer and subject, the time of that authentication and how it was done, and
 * the SHA-256 of the ID token that said so (never the token). Absent for users-file signatures.
 */
export const SignerAuthenticationSchema = z.object({
  method: z.literal('oidc'),
  issuer: z.string().min(1).max(500),
  subject: z.string().min(1).max(255),
  /** `auth_time` as an ISO 8601 instant: when the provider last authenticated the signer. */
  authTime: z.iso.datetime(),
  acr: z.string().max(200).optional(),
  amr: z.array(z.string().max(100)).max(20).optional(),
  idTokenSha256: Sha256Hex,
  /** The policy in force: the authentication had to be at most this old when the signature was submitted. */
  maxAgeSeconds: z.number().int().positive(),
  /** The clock difference tolerated between Vigil and the provider when that was checked. */
  clockToleranceSeconds: z.number().int().min(0).max(300).optional(),
});
export type SignerAuthentication = z.infer<typeof SignerAuthenticationSchema>;

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
  /** Present when an OpenID provider authenticated the signer for this signature (re-authentication evidence). */
  authentication: SignerAuthenticationSchema.optional(),
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
  /** Present when an OpenID provider authenticated the signer for this withdrawal (as for a signature). */
  authentication: SignerAuthenticationSchema.optional(),
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
