// Inference gateway: OIP v2 serving with production/canary/shadow routes, the control API, and the S3 route store.
export { S3RouteStore } from './route-store';
export { Gateway, type GatewayOptions } from './server';
export { RouteTables, pollRouteStore, type SwapResult } from './route-table';
export {
  GatewayRouteTableSchema,
  CohortRuleSchema,
  assign,
  caseBucket,
  cohortMatches,
  fromRouteState,
  versionsOf,
  type Assignment,
  type CohortRule,
  type GatewayRouteTable,
} from './routing';
export { ShadowMirror, type ShadowScored, type ShadowStats } from './shadow-mirror';
export {
  inProcessBackend,
  RemoteOipBackend,
  BackendError,
  type Backend,
  type ModelBackends,
  type RemoteOipOptions,
} from './backends';
export {
  InferRequestSchema,
  OipRequestError,
  parseInferRequest,
  toFeatureMatrix,
  inferResponse,
  inferResponseText,
  type InferRequest,
  type InferResponse,
} from './oip';
export { GatewayRouteControl, GatewayControlError } from './control-client';
export { loadModelsFile, ModelsFileSchema } from './models-file';
export { startOipModelServer, type OipModelServer } from './oip-server';
