export { rocAuc } from './auc';
export { averagePrecision, averagePrecisionInterval } from './average-precision';
export { betaQuantile, logGamma, regularizedIncompleteBeta } from './beta';
export {
  brierScore,
  eceFromBins,
  expectedCalibrationError,
  fitRecalibration,
  logisticRecalibration,
  recalibrationColumns,
  fillRecalibrationColumns,
  reliabilityCurve,
  reliabilityFromBins,
  type BinStrategy,
  type LogisticCoefficient,
  type Recalibration,
  type RecalibrationColumns,
  type ReliabilityPoint,
} from './calibration';
export {
  aucInterval,
  delongAuc,
  nonInferiority,
  pairedDelong,
  pairedFromPlacements,
  type AucEstimate,
  type NonInferiorityResult,
  type PairedAucTest,
} from './delong';
export { StatsInputError } from './errors';
export { holmAdjust } from './holm';
export { normalCdf, normalPdf, normalQuantile, normalUpperTail, twoSidedZ } from './normal';
export {
  armStats,
  rate,
  rateCounts,
  thresholdForSensitivity,
  type ChosenThreshold,
  type ConfusionCounts,
  type Rate,
  type RateName,
} from './operating-point';
export {
  clopperPearsonInterval,
  proportionInterval,
  wilsonInterval,
  type Interval,
  type ProportionMethod,
} from './proportion-intervals';
export {
  crossSlices,
  crossSlicesWithSubsets,
  encodeAttribute,
  filterSlice,
  OVERALL,
  type EncodedAttribute,
  type SliceDefinition,
} from './slices';
export { DEFAULT_BINS, summarizeSorted, type BinSums, type SliceSummary } from './slice-summary';
export { argsortAscending } from './sort';
export { assertSameLength, toLabels, toScores } from './validate';
