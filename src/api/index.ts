// HTTP API: the Hono app (routes, auth, error mapping) and the Temporal client slice it needs.
export { createApp, MAX_BODY_BYTES, LIST_LIMIT, type AppDeps } from './app';
export { ApiError, fieldIssues, type FieldIssue } from './errors';
export type { ReleaseHandle, TemporalPort } from './temporal-port';
