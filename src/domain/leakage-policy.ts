import { z } from 'zod';
import { strictObject } from './strict-object';

/** Leakage checks a policy can require or waive (src/leakage). */
export const LEAKAGE_CHECKS = [
  'patient-overlap',
  'duplicate-rows',
  'single-feature',
  'feature-pair',
  'temporal-order',
  'site-held-out',
] as const;
export type LeakageCheckName = (typeof LEAKAGE_CHECKS)[number];

const column = z.string().min(1).max(256);

/**
 * How OFFLINE_EVAL checks the evaluation split for leakage from the splits that informed the model. Every check
 * that applies is required: one that cannot run (no patient_id column, hashed ids against raw ones, a missing date
 * column) fails the gate unless `waive` names it with a reason. Absent: the defaults below, no validation design.
 */
export const LeakagePolicySchema = strictObject({
  /**
   * Label-proxy bar: a feature (or a pair) is flagged when the lower family-wise 95 % bound of its AUC reaches
   * this. Default 0.97, above the best single clinical measurements on record (docs/statistics.md).
   */
  maxFeatureAuc: z.number().gt(0.5).max(1).optional(),
  /** Slice column naming each row's site: single features are then also judged per site. */
  siteColumn: column.optional(),
  /** Temporal validation: every evaluation row must be dated after the latest training row (ISO 8601 dates). */
  temporal: strictObject({ dateColumn: column }).optional(),
  /** Site held-out validation: no site of the evaluation split may appear in training (needs siteColumn). */
  siteHeldOut: z.boolean().optional(),
  /** Checks accepted as not run, each with why (shown wherever the verdict is). */
  waive: z
    .array(strictObject({ check: z.enum(LEAKAGE_CHECKS), reason: z.string().trim().min(10).max(2000) }))
    .max(LEAKAGE_CHECKS.length)
    .optional(),
}).superRefine((l, ctx) => {
  if (l.siteHeldOut && !l.siteColumn)
    ctx.addIssue({ code: 'custom', path: ['siteHeldOut'], message: 'site held-out validation needs siteColumn' });
  const seen = new Set<string>();
  (l.waive ?? []).forEach((w, i) => {
    if (seen.has(w.check)) ctx.addIssue({ code: 'custom', path: ['waive', i, 'check'], message: 'waived twice' });
    seen.add(w.check);
  });
});
export type LeakagePolicy = z.infer<typeof LeakagePolicySchema>;
