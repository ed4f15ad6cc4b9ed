export {
  logNormalCdf,
  mixturePrecision,
  oneSidedNormalMixtureBoundary,
  oneSidedNormalMixtureLog,
  PLANNED_POINT_AT,
  PLANNED_POINT_WEIGHT,
  plannedMixture,
  plannedMixtureBoundary,
  plannedMixtureLog,
  type PlannedMixture,
} from './mixture';
export {
  plannedInformation,
  plannedRho,
  PLANNED_SEQUENTIAL_METHOD,
  SEQUENTIAL_METHOD,
  type HarmMixture,
  sequentialHarmTest,
  type IntervalCounts,
  type PositiveCounts,
  type SequentialHarmOptions,
  type SequentialHarmResult,
  type SequentialLook,
} from './two-proportions';
export { betaBinomialLogE, binomialConfidenceSequence, type ProportionBounds } from './binomial';
