// Local stack: Temporal dev server + SeaweedFS S3 as supervised child processes, for the
// `stack` command and for integration tests.
export { startTemporal, VIGIL_SEARCH_ATTRIBUTES, type StartTemporalOptions, type TemporalServer } from './temporal';
export {
  startSeaweed,
  ensureEvidenceBucket,
  BucketSetupError,
  type StartSeaweedOptions,
  type SeaweedServer,
  type S3Credentials,
} from './seaweed';
export { startLocalStack, type LocalStack } from './local-stack';
export { startTestStack, type TestStack, type TestStackOptions } from './test-stack';
export { freePort, freePorts } from './ports';
export { defaultBinDir } from './tools';
export type { ManagedProcess } from './process';
