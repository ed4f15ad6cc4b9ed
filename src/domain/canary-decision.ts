import { z } from 'zod';
import { SignerAuthenticationSchema } from './approval';
import type { EvidenceRef } from './evidence';
import { RoleSchema } from './policy';

/**
 * A person's decision on a held canary: after a pause step (`canary.steps[i].pause`) or an escalated guardrail
 * failure (`canary.onFailure: escalate`). `signer` and `printedName` come from the authenticated account.
 */
export const CanaryDecisionInputSchema = z.object({
  signer: z.string().min(1).max(128),
  printedName: z.string().min(1).max(200),
  role: RoleSchema,
  /** resume: continue the canary (after an escalation: a new sequential test starts); rollback: end it. */
  decision: z.enum(['resume', 'rollback']),
  reason: z.string().min(1).max(2000),
  /** Present when an OpenID provider authenticated the decider for this act (src/auth/oidc). */
  authentication: SignerAuthenticationSchema.optional(),
});
export type CanaryDecisionInput = z.infer<typeof CanaryDecisionInputSchema>;

/** Why the canary waits for a person. */
export interface CanaryHold {
  kind: 'pause' | 'escalation';
  step: number;
  since: string;
  /** When the hold ends by itself in a rollback; null = waits without limit (a pause step without timeout). */
  deadline: string | null;
  /** The failed guardrail's reasons (escalation only). */
  failure: string[] | null;
}

export interface CanaryDecisionRecord extends CanaryDecisionInput {
  at: string;
  hold: CanaryHold;
  evidence: EvidenceRef;
}

export interface CanaryDecisionResult {
  releaseId: string;
  decision: 'resume' | 'rollback';
  record: string;
}
