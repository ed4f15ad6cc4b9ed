export {
  evaluateAcceptance,
  metricValue,
  type AcceptanceReport,
  type CriterionReport,
  type EvaluationInput,
  type MetricValue,
  type ModelSliceMetrics,
  type Outcome,
  type SliceOutcome,
  type SliceReport,
  type ThresholdReport,
  type ThresholdRule,
} from './evaluate';
export type { CodedAttribute } from './types';
export { acceptancePolicyJsonSchema } from './json-schema';
export {
  AcceptancePolicySchema,
  checkAttributes,
  CriterionSchema,
  METRICS,
  parseAcceptancePolicy,
  PolicyError,
  referencedAttributes,
  validateAcceptancePolicy,
  type AcceptancePolicy,
  type AcceptancePolicyInput,
  type Criterion,
  type MetricName,
} from './policy';
