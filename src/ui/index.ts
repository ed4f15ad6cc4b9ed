// Server-rendered sign-off UI (hono/html; no client framework, no scripts, no CDN).
export { createUiRoutes, type UiDeps } from './routes';
export { uiDepsFromConfig } from './wiring';
