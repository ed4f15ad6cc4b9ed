import { z } from 'zod';
import { strictObject } from './strict-object';

/**
 * The pre-registered acceptance policy of the offline gate (criteria fixed before training).
 * Parsing from text and the evaluator live in src/evaluation.
 */
/** Metrics a criterion may name. */
export const METRICS = [
  'auc',
  'sensitivity',
  'specificity',
  'ppv',
  'npv',
  'brier',
  'ece',
  'calibrationSlope',
  'calibrationIntercept',
  'averagePrecision',
] as const;
export type MetricName = (typeof METRICS)[number];

/** Metrics reported without an analytic interval: a criterion on them may only use the estimate. */
export const METRICS_WITHOUT_INTERVAL: readonly MetricName[] = ['ece'];
/** Metrics with a direction (higher is better / lower is better); calibration slope and intercept have a target instead. */
export const HIGHER_IS_BETTER: readonly MetricName[] = [
  'auc',
  'sensitivity',
  'specificity',
  'ppv',
  'npv',
  'averagePrecision',
];
export const LOWER_IS_BETTER: readonly MetricName[] = ['brier', 'ece'];

const SliceSelector = z
  .union([
    z.literal('overall'),
    strictObject({
      attributes: z
        .array(z.string().min(1))
        .min(1)
        .describe('Declared attribute columns; each combination of their levels is a slice.'),
      includeSubsets: z
        .boolean()
        .default(false)
        .describe('Also each level of each attribute alone and every partial intersection (site, sex, site × sex, …).'),
    }).strict(),
  ])
  .describe("'overall', or the slices formed by declared attributes and their intersections");

/**
 * Default minimum rows per slice: the n at which a 95% Wald interval for a proportion is at most ±0.1 wide
 * (1.96·√(p(1 − p)/n) ≤ 0.098 for every p at n = 100). Below it a slice cannot show much either way.
 */
export const MIN_SLICE_ROWS = 100;

const common = {
  id: z.string().min(1).optional().describe('Name used in the report; defaults to criterion-<index>.'),
  slices: SliceSelector.default('overall'),
  minN: z
    .number()
    .int()
    .min(1, 'every slice has at least 0 rows, so minN 0 could never find too little data')
    .default(MIN_SLICE_ROWS)
    .describe(
      `Slices with fewer rows are insufficient data (a failure unless onInsufficient is 'ignore'). Default ${MIN_SLICE_ROWS}: with fewer rows a 95% interval for a proportion is about ±10 points wide or more (1.96·√(0.25/100) = 0.098), too wide to support a claim about the slice; a metric on a minority class (sensitivity counts only positives) needs more.`,
    ),
  onInsufficient: z
    .enum(['fail', 'ignore'])
    .default('fail')
    .describe('Whether an insufficient-data slice fails the criterion (default) or is listed and ignored.'),
};

const MetricThreshold = strictObject({
  kind: z.literal('metric-threshold'),
  metric: z.enum(METRICS),
  bound: z.enum(['estimate', 'lower', 'upper']).default('estimate'),
  confidenceLevel: z
    .number()
    .gt(0)
    .lt(1)
    .optional()
    .describe('Two-sided level of the interval whose bound is used; defaults to the policy level.'),
  op: z.enum(['>=', '<=']),
  value: z.number(),
  ...common,
}).strict();

const NonInferiority = strictObject({
  kind: z.literal('non-inferiority'),
  metric: z.literal('auc').default('auc'),
  margin: z
    .number()
    .nonnegative()
    .lt(1, 'AUCs differ by less than 1, so a margin of 1 or more could never fail')
    .describe('Largest tolerated AUC deficit versus the incumbent.'),
  alpha: z.number().gt(0).lt(0.5).describe('One-sided significance level, e.g. 0.025.'),
  multiplicity: z
    .enum(['none', 'holm'])
    .default('none')
    .describe('Holm step-down adjustment across the slices of this criterion.'),
  ...common,
}).strict();

const MaxDrop = strictObject({
  kind: z.literal('max-drop'),
  metric: z.enum(METRICS),
  maxDrop: z
    .number()
    .nonnegative()
    .lt(1, 'every metric with a direction is a proportion: it cannot worsen by 1 or more, so this could never fail')
    .describe('Largest allowed worsening of the point estimate versus the incumbent, per slice.'),
  ...common,
}).strict();

export const CriterionSchema = z.discriminatedUnion('kind', [MetricThreshold, NonInferiority, MaxDrop]);

export const AcceptancePolicySchema = strictObject({
  version: z.literal(1),
  confidenceLevel: z.number().gt(0).lt(1).default(0.95),
  proportionInterval: z.enum(['wilson', 'clopper-pearson']).default('wilson'),
  calibrationBins: z.number().int().min(2).max(1000).default(10),
  eceBinning: z.enum(['equal-width', 'equal-mass']).default('equal-width'),
  criteria: z.array(CriterionSchema).min(1),
})
  .strict()
  .superRefine((policy, ctx) => {
    policy.criteria.forEach((c, i) => {
      if (c.kind === 'metric-threshold' && c.bound !== 'estimate' && METRICS_WITHOUT_INTERVAL.includes(c.metric)) {
        ctx.addIssue({
          code: 'custom',
          path: ['criteria', i, 'bound'],
          message: `${c.metric} has no interval; use bound: estimate`,
        });
      }
      if (c.kind === 'metric-threshold') {
        const never = thresholdNeverFails(c.metric, c.op, c.value);
        if (never) ctx.addIssue({ code: 'custom', path: ['criteria', i, 'value'], message: never });
      }
      if (c.kind === 'max-drop' && !HIGHER_IS_BETTER.includes(c.metric) && !LOWER_IS_BETTER.includes(c.metric)) {
        ctx.addIssue({
          code: 'custom',
          path: ['criteria', i, 'metric'],
          message: `${c.metric} has no better direction; max-drop needs one of ${[...HIGHER_IS_BETTER, ...LOWER_IS_BETTER].join(', ')}`,
        });
      }
    });
  });

/** Metrics that are proportions (or averages of them), within [0, 1] with their interval bounds. */
const BOUNDED: readonly MetricName[] = [...HIGHER_IS_BETTER, ...LOWER_IS_BETTER];

/** Why a threshold on a metric within [0, 1] could never fail, or null when it can. */
function thresholdNeverFails(metric: MetricName, op: '>=' | '<=', value: number): string | null {
  if (!BOUNDED.includes(metric)) return null;
  if (op === '>=' && value <= 0) return `${metric} is never below 0, so ${metric} >= ${value} could never fail`;
  if (op === '<=' && value >= 1) return `${metric} is never above 1, so ${metric} <= ${value} could never fail`;
  return null;
}

export type AcceptancePolicy = z.output<typeof AcceptancePolicySchema>;
export type AcceptancePolicyInput = z.input<typeof AcceptancePolicySchema>;
export type Criterion = AcceptancePolicy['criteria'][number];
