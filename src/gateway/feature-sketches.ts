/**
 * The gateway's input sketcher. It lives in telemetry since the prediction encoder thread runs it too (the rows of
 * large batches are sketched there, off the request thread): re-exported here for the gateway's callers.
 */
export {
  FeatureSketcher,
  GATEWAY_SKETCH_ALPHA,
  type FeatureSketcherOptions,
  type SketchedMatrix,
} from '../telemetry/feature-sketcher';
