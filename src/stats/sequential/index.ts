export { logNormalCdf, mixturePrecision, oneSidedNormalMixtureBoundary, oneSidedNormalMixtureLog } from './mixture';
export {
  plannedRho,
  SEQUENTIAL_METHOD,
  sequentialHarmTest,
  type IntervalCounts,
  type PositiveCounts,
  type SequentialHarmOptions,
  type SequentialHarmResult,
  type SequentialLook,
} from './two-proportions';
export { betaBinomialLogE, binomialConfidenceSequence, type ProportionBounds } from './binomial';
