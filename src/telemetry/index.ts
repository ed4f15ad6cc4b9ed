// Telemetry: prediction/outcome/feedback events, the fsync'ed write-ahead log, segment upload and queries.
export * from './events';
export { WriteAheadLog, parseSegment, type WalOptions } from './wal';
export { mergeWindowSketches, windowSiteMix, type WindowSketches } from './input-sketches';
export {
  SegmentUploader,
  TelemetryReader,
  aggregate,
  caseRecord,
  pointerKey,
  pointersFor,
  segmentBytes,
  INDEX_PREFIX,
  SEGMENT_MEDIA_TYPE,
  type ArmAggregate,
  type CaseRecord,
  type SegmentPointer,
  type SegmentSink,
  type SegmentSource,
  type SourceWeights,
  type UploaderWatermark,
} from './segments';
export {
  S3WatermarkStore,
  WATERMARK_PREFIX,
  awaitCompleteness,
  judgeCompleteness,
  windowCompleteness,
  type TelemetryCompleteness,
  type TelemetryWatermark,
  type WatermarkStore,
} from './watermarks';
export {
  DEFAULT_SOURCE_WEIGHTS,
  TelemetryLiveSource,
  caseLabels,
  measureLive,
  nearestRank,
  windowsBetween,
  type LiveArm,
  type LiveQuery,
  type LiveRoute,
  type LiveTelemetryMeasurement,
  type LiveTelemetryPort,
  type LiveTelemetryResult,
  type PointerIndex,
  type TelemetryWindow,
  type TelemetryWindowQuery,
  type TelemetryWindowReader,
} from './live-source';
