import { z } from 'zod';
import { AcceptancePolicySchema } from './acceptance';

/** What a release can change relative to the incumbent. */
export const CHANGE_DIMENSIONS = ['code', 'data', 'model', 'labelPolicy', 'featureSchema'] as const;
export type ChangeDimension = (typeof CHANGE_DIMENSIONS)[number];

export const RoleSchema = z.enum(['qa', 'clinical', 'regulatory']);
export type Role = z.infer<typeof RoleSchema>;

const unit = z.number().min(0).max(1);
const seconds = z.number().positive().max(10 * 365 * 24 * 3600);
const cases = z.number().int().min(10).max(1_000_000);

/** Guardrails judged on live traffic (canary and monitoring). */
export const GuardrailsSchema = z.object({
  /** Largest tolerated drop of sensitivity versus the comparator (control arm or validated baseline). */
  maxSensitivityDrop: unit,
  /** Largest tolerated ratio of alert rate versus the comparator. */
  maxAlertRateRatio: z.number().min(1).max(100),
  /** Fewer labelled positives than this in an interval is inconclusive, never a pass. */
  minPositives: z.number().int().min(1).max(100_000),
});
export type Guardrails = z.infer<typeof GuardrailsSchema>;

/**
 * Anytime-valid canary guardrails (src/judging/guardrails.ts, src/stats/sequential): the sensitivity comparison
 * keeps its false-rollback rate at α however many intervals are judged. Replaces the per-interval
 * `guardrails` for the canary when present.
 */
export const SequentialGuardrailsSchema = z.object({
  /** One-sided false-rollback rate over the whole canary. */
  alpha: z.number().gt(0).max(0.2),
  /** Harm is a sensitivity drop (control − canary) beyond this; 0 = any drop. */
  harmMargin: z.number().min(0).max(0.5).default(0),
  /** When set, the last step only passes once the upper confidence bound on the drop is below it. */
  nonInferiorityMargin: z.number().gt(0).max(0.5).optional(),
  /** Labelled positives per arm expected over the whole canary (fixes the mixture's tuning in advance). */
  planned: z.object({
    treatmentPositives: z.number().int().min(1).max(10_000_000),
    comparatorPositives: z.number().int().min(1).max(10_000_000),
    sensitivity: z.number().gt(0).lt(1).optional(),
  }),
  /** Fewer cumulative labelled positives than this in either arm is inconclusive, never a pass. */
  minPositives: z.number().int().min(1).max(100_000),
  maxAlertRateRatio: z.number().min(1).max(100),
  maxErrorRate: unit.optional(),
  maxDataQualityAnomalies: z.number().int().min(0).max(1000).optional(),
  /** An inconclusive interval re-bakes the step up to this many times; still inconclusive → rollback, never pass. */
  maxExtensions: z.number().int().min(0).max(50).default(3),
});
export type SequentialGuardrails = z.infer<typeof SequentialGuardrailsSchema>;

export const CanaryStepSchema = z.object({
  percent: z.number().min(0.1).max(100),
  bakeSeconds: seconds,
  cases,
});
export type CanaryStep = z.infer<typeof CanaryStepSchema>;

/** A release policy is data: validated here, hashed and pinned at SNAPSHOT. */
export const ReleasePolicySchema = z
  .object({
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
        z.object({ kind: z.literal('fixed') }),
        z.object({ kind: z.literal('max-specificity-at-sensitivity'), minSensitivity: z.number().gt(0).max(1) }),
      ])
      .default({ kind: 'fixed' }),
    offline: z.object({
      /** Slice attributes the locked evaluation data declares (columns), e.g. site, sex, age_band. */
      attributes: z.array(z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'a lowercase column name')).max(8).default([]),
      /** Criteria registered before training; judged on candidate and incumbent over the same rows. */
      acceptance: AcceptancePolicySchema,
    }),
    shadow: z.object({
      durationSeconds: seconds,
      cases,
      /** Minimum share of cases on which candidate and production agree at the operating threshold. */
      minAgreement: unit,
    }),
    approval: z.object({
      requiredRoles: z.array(RoleSchema).min(1).max(3),
      expirySeconds: seconds,
      /**
       * Approvals each required role needs, from distinct people (default 1). A role is pending until it has that
       * many approvals that were not withdrawn. Roles that are not required for the release are ignored.
       */
      quorum: z
        .object({
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
      reminders: z
        .object({
          afterSeconds: z.array(seconds).max(20).default([]),
          escalateAfterSeconds: seconds.optional(),
        })
        .optional(),
    }),
    /** Predetermined change control plan: which changes stay within it, and who signs each class (src/domain/change-control.ts). */
    changeControl: z
      .object({
        withinPlan: z.object({ allowed: z.array(z.enum(CHANGE_DIMENSIONS)).min(1) }),
        requiredRoles: z.object({ withinPlan: z.array(RoleSchema).min(1).max(3), substantial: z.array(RoleSchema).min(1).max(3) }),
      })
      .optional(),
    canary: z.object({
      steps: z.array(CanaryStepSchema).min(1).max(10),
      guardrails: GuardrailsSchema,
      sequential: SequentialGuardrailsSchema.optional(),
    }),
    monitoring: z.object({
      intervals: z.number().int().min(1).max(100_000),
      intervalSeconds: seconds,
      cases,
      /** Intervals per workflow run before continue-as-new keeps the history bounded. */
      intervalsPerRun: z.number().int().min(1).max(500).default(48),
      guardrails: GuardrailsSchema,
    }),
  })
  .superRefine((p, ctx) => {
    if (new Set(p.approval.requiredRoles).size !== p.approval.requiredRoles.length) {
      ctx.addIssue({ code: 'custom', path: ['approval', 'requiredRoles'], message: 'roles must be distinct' });
    }
    const reminders = p.approval.reminders;
    if (reminders) {
      reminders.afterSeconds.forEach((s, i) => {
        if (i > 0 && s <= reminders.afterSeconds[i - 1]!) {
          ctx.addIssue({ code: 'custom', path: ['approval', 'reminders', 'afterSeconds', i], message: 'reminder offsets must increase' });
        }
        if (s >= p.approval.expirySeconds) {
          ctx.addIssue({ code: 'custom', path: ['approval', 'reminders', 'afterSeconds', i], message: 'a reminder must come before approval.expirySeconds' });
        }
      });
      if (reminders.escalateAfterSeconds !== undefined && reminders.escalateAfterSeconds >= p.approval.expirySeconds) {
        ctx.addIssue({ code: 'custom', path: ['approval', 'reminders', 'escalateAfterSeconds'], message: 'the escalation must come before approval.expirySeconds' });
      }
    }
    for (const cls of ['withinPlan', 'substantial'] as const) {
      const roles = p.changeControl?.requiredRoles[cls] ?? [];
      if (new Set(roles).size !== roles.length) {
        ctx.addIssue({ code: 'custom', path: ['changeControl', 'requiredRoles', cls], message: 'roles must be distinct' });
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
        ctx.addIssue({ code: 'custom', path: ['canary', 'steps', i, 'percent'], message: 'canary percentages must increase' });
      }
    });
  });
export type ReleasePolicy = z.infer<typeof ReleasePolicySchema>;
export type ReleasePolicyInput = z.input<typeof ReleasePolicySchema>;
