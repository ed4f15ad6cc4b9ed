import { z } from 'zod';
import { SignerAuthenticationSchema } from './approval';
import type { EvidenceRef } from './evidence';

/**
 * Clinical adjudication of shadow disagreements (policy `shadow.adjudication`): reviewers judge sampled cases on
 * which candidate and production disagree at the operating threshold. `reviewer` and `printedName` come from the
 * authenticated account (web UI session or the re-authenticated JSON route), never from a form field.
 */
export const ADJUDICATION_VERDICTS = ['candidate', 'production', 'unclear'] as const;
export const AdjudicationVerdictSchema = z.enum(ADJUDICATION_VERDICTS);
export type AdjudicationVerdict = z.infer<typeof AdjudicationVerdictSchema>;

/** Roles that may adjudicate: the clinical and quality reviewers (regulatory signs, it does not judge cases). */
export const ADJUDICATOR_ROLES = ['qa', 'clinical'] as const;
export const AdjudicatorRoleSchema = z.enum(ADJUDICATOR_ROLES);

/** Sample ids are positions in the immutable disagreement sample: d-001, d-002, … */
export const SAMPLE_ID = /^d-\d{3,4}$/;
export const sampleIdAt = (index: number): string => `d-${String(index + 1).padStart(3, '0')}`;
export const sampleIndexOf = (sampleId: string): number | null =>
  SAMPLE_ID.test(sampleId) ? Number(sampleId.slice(2)) - 1 : null;

export const AdjudicationInputSchema = z.object({
  sampleId: z.string().regex(SAMPLE_ID, 'a sample id such as d-001'),
  reviewer: z.string().min(1).max(128),
  printedName: z.string().min(1).max(200),
  role: AdjudicatorRoleSchema,
  /** Which model made the right call on this case: the candidate, production, or unclear. */
  verdict: AdjudicationVerdictSchema,
  /** Why; free text (no identifying information: it is kept in the evidence store and the workflow history). */
  comment: z.string().trim().min(1).max(2000),
  /** Present when an OpenID provider authenticated the reviewer for this adjudication (as for a signature). */
  authentication: SignerAuthenticationSchema.optional(),
});
export type AdjudicationInput = z.infer<typeof AdjudicationInputSchema>;

export interface AdjudicationRecord extends Omit<AdjudicationInput, 'comment'> {
  at: string;
  /** The `vigil.adjudication/v1` record (which also holds the comment). */
  evidence: EvidenceRef;
}

export interface AdjudicationResult {
  releaseId: string;
  sampleId: string;
  accepted: true;
  recordKey: string;
  /** Distinct sampled cases with at least one adjudication, and how many the gate waits for. */
  adjudicatedCases: number;
  required: number;
}

/** Which model alerted on a disagreement case. */
export type DisagreementDirection = 'candidate-only' | 'production-only';

/** One sampled disagreement in the `vigil.shadow-disagreements/v1` record: de-identified, never the raw case id. */
export interface DisagreementCase {
  sampleId: string;
  /** HMAC-SHA256 of the case id (src/telemetry hashCaseId): keyed per release, or the gateway's telemetry hash. */
  caseIdHash: string;
  site: string;
  direction: DisagreementDirection;
  candidate: { score: number; alert: boolean };
  production: { score: number; alert: boolean };
  /** The inputs as the candidate received them; null where a value was missing (non-finite). Empty when measured from gateway telemetry (it records no inputs). */
  features: Record<string, number | null>;
  /** When the gateway made the two predictions (telemetry-measured shadows: a case may be scored several times). */
  predictedAt?: string;
}

/**
 * Adjudications per sampled case, folded into one verdict each: the majority of candidate / production votes
 * (unclear votes abstain); a tie, or only unclear votes, makes the case unclear.
 */
export interface AdjudicationTally {
  /** Disagreement cases in the sample. */
  sampled: number;
  /** Cases with at least one adjudication. */
  adjudicatedCases: number;
  /** All adjudications (a case may have several reviewers). */
  adjudications: number;
  candidateRight: number;
  productionRight: number;
  unclear: number;
  /** When the wait for adjudications ended at the latest (timeout). */
  deadline: string;
}

/** Adjudication progress in the release status (present once the shadow stage has a sample to adjudicate). */
export interface ShadowAdjudicationStatus {
  /** True while adjudications are accepted. */
  open: boolean;
  sample: EvidenceRef | null;
  sampled: number;
  /** Adjudicated cases the gate waits for: min(policy minAdjudicated, sampled). */
  required: number;
  adjudicatedCases: number;
  deadline: string;
  adjudications: AdjudicationRecord[];
  /** The tally the gate was judged on, once closed. */
  tally: AdjudicationTally | null;
}
