import { z } from 'zod';
import { strictObject } from './strict-object';
import { AcceptancePolicySchema } from './acceptance';
import { LeakagePolicySchema } from './leakage-policy';

/** What a release can change relative to the incumbent. */
export const CHANGE_DIMENSIONS = ['code', 'data', 'model', 'labelPolicy', 'featureSchema'] as const;
export type ChangeDimension = (typeof CHANGE_DIMENSIONS)[number];

export const RoleSchema = z.enum(['qa', 'clinical', 'regulatory']);
export type Role = z.infer<typeof RoleSchema>;

const unit = z.number().min(0).max(1);
/**
 * Limits on a proportion that must be able to fail: a proportion never drops by 1 or more, nor exceeds 1, nor
 * falls below 0, so a limit there would be a gate that always passes.
 */
const proportionDrop = z.number().min(0).lt(1, 'a proportion cannot drop by 1 or more, so this limit could never fail');
const proportionCeiling = z.number().min(0).lt(1, 'a proportion is never above 1, so a limit of 1 could never fail');
const proportionFloor = z.number().gt(0, 'a proportion is never below 0, so a minimum of 0 could never fail').max(1);
const seconds = z
  .number()
  .positive()
  .max(10 * 365 * 24 * 3600);
const cases = z.number().int().min(10).max(1_000_000);

/** Guardrails judged on live traffic (canary and monitoring). */
export const GuardrailsSchema = strictObject({
  /** Largest tolerated drop of sensitivity versus the comparator (control arm or validated baseline). */
  maxSensitivityDrop: proportionDrop,
  /** Largest tolerated ratio of alert rate versus the comparator. */
  maxAlertRateRatio: z.number().min(1).max(100),
  /** Fewer labelled positives than this in an interval is inconclusive, never a pass. */
  minPositives: z.number().int().min(1).max(100_000),
});
export type Guardrails = z.infer<typeof GuardrailsSchema>;

/**
 * Guardrails per clinical cohort (src/judging/cohort-guardrails.ts): the canary as a whole can average away a
 * site where the candidate stopped working, so each level of each named request attribute is also judged.
 *
 * α of the sequential guardrails is split by Bonferroni, and each part is anytime-valid on its own (it holds
 * across every look by construction), so the chance of any false rollback over all cohorts and looks together is
 * at most α: the whole-canary comparison gets α·(1 − alphaShare − floor.alphaShare); each of the
 * attributes.length × maxLevels cohort comparisons gets α·alphaShare / (attributes.length × maxLevels); the
 * floor gets α·floor.alphaShare, split equally over its two signals (sensitivity, alert rate), the cohorts and the
 * two arms' bounds.
 */
export const CohortGuardrailsSchema = strictObject({
  /** Request attributes the gateway records whose levels are guarded (site, age band, unit…). [] = none. */
  attributes: z
    .array(z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'a lowercase attribute name'))
    .max(4)
    .default(['site']),
  /**
   * Levels budgeted per attribute (the Bonferroni divisor is fixed before the canary, so it cannot depend on what
   * traffic shows up). A level seen beyond this many is not judged, and the last step cannot pass while it exists.
   */
  maxLevels: z.number().int().min(1).max(64).default(8),
  /**
   * Share of α spent on the per-cohort comparisons together. 0.02 (with 0.005 for the floor): the whole canary keeps
   * 97.5 % of α, so its power against an overall drop stays within Monte-Carlo error of the judge without cohorts
   * (5-point drop 15.00 vs 15.30 %, 10-point 71.50 vs 71.95 %), and a site at 0 % is still caught in the first step
   * as often as with 10 % (docs/benchmarks.md, bench:guardrails). Releases before `patched('cohort-alpha-split')`
   * used 0.1 / 0.02 (LEGACY_COHORT_GUARDRAILS).
   */
  alphaShare: z.number().gt(0).lt(1).default(0.02),
  /**
   * A cohort with fewer cumulative labelled positives than this in either arm is not compared (its normal
   * approximation is not trusted). It holds the last step (inconclusive); earlier steps go on under the floor.
   * 15: the demo's first step has ~25 positives a site, and the realised false-rollback rate at 15 stays far
   * below its budget (docs/benchmarks.md, bench:guardrails).
   */
  minPositives: z.number().int().min(5).max(100_000).default(15),
  /**
   * The catastrophic-failure floor, which does not wait for the comparison's power or minimum: a cohort's canary
   * sensitivity (or alert rate) whose exact anytime upper bound is below `relative` × the control's exact anytime
   * lower bound rolls back at that look (beta-binomial confidence sequences, src/stats/sequential/binomial.ts).
   */
  floor: strictObject({
    relative: z.number().gt(0).lt(1).default(0.5),
    alphaShare: z.number().gt(0).lt(1).default(0.005),
  })
    .strict()
    .default({ relative: 0.5, alphaShare: 0.005 }),
})
  .strict()
  .refine((c) => c.alphaShare + c.floor.alphaShare < 1, {
    path: ['alphaShare'],
    message: 'alphaShare + floor.alphaShare must leave part of α for the whole-canary comparison',
  });
export type CohortGuardrails = z.infer<typeof CohortGuardrailsSchema>;

/** Site guarded with the defaults above: what a policy without `cohorts` gets. */
export const DEFAULT_COHORT_GUARDRAILS: CohortGuardrails = CohortGuardrailsSchema.parse({});

/**
 * What a policy without `cohorts` got before `patched('cohort-alpha-split')` (v0.4.0): α split 88 / 10 / 2 % between
 * the whole canary, the cohort comparisons and the floor. Kept so those canaries replay and audit as they ran.
 */
export const LEGACY_COHORT_GUARDRAILS: CohortGuardrails = CohortGuardrailsSchema.parse({
  alphaShare: 0.1,
  floor: { relative: 0.5, alphaShare: 0.02 },
});

/**
 * Anytime-valid canary guardrails (src/judging/guardrails.ts, src/stats/sequential): the sensitivity comparison
 * keeps its false-rollback rate at α however many intervals are judged. Replaces the per-interval
 * `guardrails` for the canary when present.
 */
export const SequentialGuardrailsSchema = strictObject({
  /** One-sided false-rollback rate over the whole canary. */
  alpha: z.number().gt(0).max(0.2),
  /** Harm is a sensitivity drop (control − canary) beyond this; 0 = any drop. */
  harmMargin: z.number().min(0).max(0.5).default(0),
  /** When set, the last step only passes once the upper confidence bound on the drop is below it. */
  nonInferiorityMargin: z.number().gt(0).max(0.5).optional(),
  /** Labelled positives per arm expected over the whole canary (fixes the mixture's tuning in advance). */
  planned: strictObject({
    treatmentPositives: z.number().int().min(1).max(10_000_000),
    comparatorPositives: z.number().int().min(1).max(10_000_000),
    sensitivity: z.number().gt(0).lt(1).optional(),
  }),
  /** Fewer cumulative labelled positives than this in either arm is inconclusive, never a pass. */
  minPositives: z.number().int().min(1).max(100_000),
  maxAlertRateRatio: z.number().min(1).max(100),
  maxErrorRate: proportionCeiling.optional(),
  maxDataQualityAnomalies: z.number().int().min(0).max(1000).optional(),
  /** Limits on signals only a gateway-fed source measures (VIGIL_LIVE_SOURCE=telemetry); unmeasured = inconclusive. */
  maxOverrideRate: proportionCeiling.optional(),
  maxLatencyP99Ms: z.number().positive().max(60_000).optional(),
  /** An inconclusive interval re-bakes the step up to this many times; still inconclusive → rollback, never pass. */
  maxExtensions: z.number().int().min(0).max(50).default(3),
  /**
   * Guardrails per cohort, part of the same α. Absent: every site with the defaults (DEFAULT_COHORT_GUARDRAILS);
   * `{ attributes: [] }` turns them off and gives the whole α back to the whole-canary comparison.
   */
  cohorts: CohortGuardrailsSchema.optional(),
});
export type SequentialGuardrails = z.infer<typeof SequentialGuardrailsSchema>;

/**
 * Post-release drift surveillance (src/activities/drift.ts, src/judging/drift.ts), judged every monitoring window
 * beside the guardrails. Data drift of the window's inputs against the locked evaluation split: PSI and two-sample
 * KS per numeric feature, chi-square for the site mix; the KS and chi-square p-values of one window form one family
 * and are Holm-adjusted (family-wise error rate ksAlpha per window). Performance drift over the labelled cases of
 * the last `windowsForPerformance` windows, pooled: sensitivity against the validated baseline and
 * calibration-in-the-large against the candidate's on the evaluation split. Workflow drift: the window's alert rate
 * against the baseline's, either way.
 */
export const DriftPolicySchema = strictObject({
  /** Largest tolerated PSI of any one feature (or of the site mix). < 0.1 stable, 0.1–0.25 moderate, > 0.25 major. */
  maxPsi: z.number().gt(0).max(10).default(0.25),
  /** Family-wise error rate of the window's KS (per feature) and chi-square (site) tests, Holm-adjusted. */
  ksAlpha: z.number().gt(0).max(0.2).default(0.01),
  /**
   * Fewest cases a window needs for its data drift to be judged (fewer: not judged, said so). Never below 50 (five
   * expected cases in each of ten PSI bins); the judge also raises it to the smallest window in which a PSI of
   * maxPsi can be significant at ksAlpha (87 for 0.25 and 0.01; docs/statistics.md).
   */
  minWindowCases: z.number().int().min(50).max(10_000_000).optional(),
  /** Alert rate versus the validated baseline outside [1/ratio, ratio] is drift. */
  maxAlertRateRatio: z.number().gt(1).max(100).default(1.25),
  /** Windows whose labelled cases are pooled for performance drift (the current one and up to n − 1 before it). */
  windowsForPerformance: z.number().int().min(1).max(100).default(6),
  /** Largest tolerated drop of pooled sensitivity below the validated baseline's. */
  maxSensitivityDrop: proportionDrop.default(0.05),
  /** Largest tolerated |calibration-in-the-large (observed rate − mean predicted risk) − the evaluation split's|. */
  maxCalibrationGap: unit.default(0.05),
  /** Fewer pooled labelled positives than this: performance drift is not judged (noted, never a pass of it). */
  minPositives: z.number().int().min(1).max(100_000).default(30),
  /**
   * What drift does: 'notify' sends a "revalidation required" notice (once per drift episode) and surveillance goes
   * on; 'revalidate' also queues a new release of the same candidate (attempt + 1) and ends surveillance with the
   * release kept in service; 'rollback' fails the window like a guardrail (the release rolls back).
   */
  onDrift: z.enum(['notify', 'revalidate', 'rollback']),
});
export type DriftPolicy = z.infer<typeof DriftPolicySchema>;

export const CanaryStepSchema = strictObject({
  percent: z.number().min(0.1).max(100),
  bakeSeconds: seconds,
  cases,
  /**
   * Hold at this percentage once the step's analysis passes, until a person resumes or rolls back
   * (`decideCanary`); without `timeoutSeconds` it waits indefinitely, with it the hold ends in a rollback.
   */
  pause: strictObject({ timeoutSeconds: seconds.optional() }).strict().optional(),
});
export type CanaryStep = z.infer<typeof CanaryStepSchema>;

/** A release policy is data: validated here, hashed and pinned at SNAPSHOT. */
export const ReleasePolicySchema = strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lowercase letters, digits, ".", "_" or "-"'),
  version: z.string().min(1).max(64),
  /** When the acceptance criteria were registered (before training). */
  registeredAt: z.iso.datetime(),
  operatingThreshold: z.number().gt(0).lt(1),
  /**
   * How the offline operating point is set: the fixed operatingThreshold, or the threshold with the highest
   * specificity at sensitivity ≥ minSensitivity, chosen on the release's tuning split and then locked.
   */
  operatingPoint: z
    .discriminatedUnion('kind', [
      strictObject({ kind: z.literal('fixed') }),
      strictObject({ kind: z.literal('max-specificity-at-sensitivity'), minSensitivity: z.number().gt(0).max(1) }),
    ])
    .default({ kind: 'fixed' }),
  offline: strictObject({
    /** Slice attributes the locked evaluation data declares (columns), e.g. site, sex, age_band. */
    attributes: z
      .array(z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'a lowercase column name'))
      .max(8)
      .default([]),
    /** Criteria registered before training; judged on candidate and incumbent over the same rows. */
    acceptance: AcceptancePolicySchema,
    /** Leakage checks: label-proxy bar, site column, validation design, waivers. Absent in older policies. */
    leakage: LeakagePolicySchema.optional(),
  }),
  shadow: strictObject({
    durationSeconds: seconds,
    cases,
    /** Minimum share of cases on which candidate and production agree at the operating threshold. */
    minAgreement: proportionFloor,
    /** Minimum Cohen's κ of candidate vs production alerts at the operating threshold (chance-corrected agreement). */
    minKappa: z.number().gt(-1, 'κ is never below −1, so a minimum of −1 could never fail').max(1).optional(),
    /** Largest tolerated PSI of any model input feature against the release's locked evaluation data. */
    maxPsi: z.number().gt(0).max(10).optional(),
    /**
     * Clinical adjudication: a stratified sample (site × direction) of up to `sampleSize` disagreements is judged
     * by qa/clinical reviewers; the gate waits until `minAdjudicated` cases are adjudicated (at most
     * `timeoutSeconds`, then it fails) and fails when production was right in more than `maxCandidateWrongShare`
     * of the adjudicated disagreements (unclear ones excluded from the denominator).
     */
    adjudication: strictObject({
      sampleSize: z.number().int().min(1).max(1000),
      minAdjudicated: z.number().int().min(1).max(1000),
      maxCandidateWrongShare: proportionCeiling,
      timeoutSeconds: seconds,
    })
      .strict()
      .refine((a) => a.minAdjudicated <= a.sampleSize, {
        path: ['minAdjudicated'],
        message: 'minAdjudicated cannot exceed sampleSize',
      })
      .optional(),
  }),
  approval: strictObject({
    requiredRoles: z.array(RoleSchema).min(1).max(3),
    expirySeconds: seconds,
    /**
     * Approvals each required role needs, from distinct people (default 1). A role is pending until it has that
     * many approvals that were not withdrawn. Roles that are not required for the release are ignored.
     */
    quorum: strictObject({
      qa: z.number().int().min(1).max(5).optional(),
      clinical: z.number().int().min(1).max(5).optional(),
      regulatory: z.number().int().min(1).max(5).optional(),
    })
      .strict()
      .optional(),
    /**
     * While sign-off is pending: a reminder naming the pending roles at each offset (seconds after the dossier is
     * ready), and one escalation. Sent through the `notify` activity (evidence + signed webhook). Absent: none.
     */
    reminders: strictObject({
      afterSeconds: z.array(seconds).max(20).default([]),
      escalateAfterSeconds: seconds.optional(),
    }).optional(),
  }),
  /**
   * What SNAPSHOT demands of the datasets' provenance beyond the lineage every release needs. Absent: labels
   * may come from a single source (the lineage's `labelSource` says which) and no inter-rater agreement is required.
   */
  provenance: strictObject({
    /** Every dataset manifest must carry inter-rater agreement (κ, from the lineage's `raterLabelsFile`). */
    requireLabelAgreement: z.boolean().default(false),
  })
    .strict()
    .optional(),
  /** Predetermined change control plan: which changes stay within it, and who signs each class (src/domain/change-control.ts). */
  changeControl: strictObject({
    withinPlan: strictObject({ allowed: z.array(z.enum(CHANGE_DIMENSIONS)).min(1) }),
    requiredRoles: strictObject({
      withinPlan: z.array(RoleSchema).min(1).max(3),
      substantial: z.array(RoleSchema).min(1).max(3),
    }),
  }).optional(),
  canary: strictObject({
    steps: z.array(CanaryStepSchema).min(1).max(10),
    guardrails: GuardrailsSchema,
    sequential: SequentialGuardrailsSchema.optional(),
    /**
     * A failed sequential guardrail: roll back at once (default), or take the canary off patients and let a
     * person decide within `escalationTimeoutSeconds` (no decision → rollback).
     */
    onFailure: z.enum(['rollback', 'escalate']).optional(),
    escalationTimeoutSeconds: seconds.optional(),
    /**
     * Salt each patient's canary bucket with the release id as well as the model name, so two releases of one model
     * expose independent sets of patients (absent/false: the model name only, and every release of the model puts
     * the same patients first). The workflow writes the salt into the route table the gateway assigns by.
     */
    saltPerRelease: z.boolean().optional(),
  }),
  monitoring: strictObject({
    intervals: z.number().int().min(1).max(100_000),
    intervalSeconds: seconds,
    cases,
    /** Intervals per workflow run before continue-as-new keeps the history bounded. */
    intervalsPerRun: z.number().int().min(1).max(500).default(48),
    guardrails: GuardrailsSchema,
    /** Drift surveillance each window (absent: guardrails only, as before). */
    drift: DriftPolicySchema.optional(),
  }),
  /**
   * How much each ground-truth source counts when canary and monitoring are measured from gateway telemetry: a
   * case's label is the outcome of its most heavily weighted source (0 = ignored). Absent: 1 / 1 / 1.
   */
  outcomes: strictObject({
    weights: strictObject({
      clinician_review: z.number().min(0),
      downstream_outcome: z.number().min(0),
      complaint: z.number().min(0),
    }).strict(),
  })
    .strict()
    .optional(),
  /**
   * Judge telemetry windows whose gateways had not all uploaded past the window's end (`completeness.complete:
   * false`) as if they were whole. Absent/false: such a window never passes — the canary bakes again within its
   * extensions, a monitoring window is not judged, the SHADOW gate is inconclusive (src/judging/window-completeness.ts).
   */
  acceptIncompleteWindows: z.boolean().optional(),
}).superRefine((p, ctx) => {
  if (new Set(p.approval.requiredRoles).size !== p.approval.requiredRoles.length) {
    ctx.addIssue({ code: 'custom', path: ['approval', 'requiredRoles'], message: 'roles must be distinct' });
  }
  const reminders = p.approval.reminders;
  if (reminders) {
    reminders.afterSeconds.forEach((s, i) => {
      if (i > 0 && s <= reminders.afterSeconds[i - 1]!) {
        ctx.addIssue({
          code: 'custom',
          path: ['approval', 'reminders', 'afterSeconds', i],
          message: 'reminder offsets must increase',
        });
      }
      if (s >= p.approval.expirySeconds) {
        ctx.addIssue({
          code: 'custom',
          path: ['approval', 'reminders', 'afterSeconds', i],
          message: 'a reminder must come before approval.expirySeconds',
        });
      }
    });
    if (reminders.escalateAfterSeconds !== undefined && reminders.escalateAfterSeconds >= p.approval.expirySeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['approval', 'reminders', 'escalateAfterSeconds'],
        message: 'the escalation must come before approval.expirySeconds',
      });
    }
  }
  for (const cls of ['withinPlan', 'substantial'] as const) {
    const roles = p.changeControl?.requiredRoles[cls] ?? [];
    if (new Set(roles).size !== roles.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['changeControl', 'requiredRoles', cls],
        message: 'roles must be distinct',
      });
    }
  }
  p.offline.acceptance.criteria.forEach((c, i) => {
    if (c.slices === 'overall') return;
    for (const a of c.slices.attributes) {
      if (!p.offline.attributes.includes(a)) {
        ctx.addIssue({
          code: 'custom',
          path: ['offline', 'acceptance', 'criteria', i, 'slices', 'attributes'],
          message: `unknown attribute "${a}"; declared in offline.attributes: ${p.offline.attributes.join(', ') || '(none)'}`,
        });
      }
    }
  });
  const percents = p.canary.steps.map((s) => s.percent);
  percents.forEach((pc, i) => {
    if (i > 0 && pc <= percents[i - 1]!) {
      ctx.addIssue({
        code: 'custom',
        path: ['canary', 'steps', i, 'percent'],
        message: 'canary percentages must increase',
      });
    }
  });
});
export type ReleasePolicy = z.infer<typeof ReleasePolicySchema>;
export type ReleasePolicyInput = z.input<typeof ReleasePolicySchema>;
