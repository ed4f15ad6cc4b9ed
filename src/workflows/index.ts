export { releaseLifecycle } from './release-lifecycle';
export { releaseMonitoring, monitoringStatusQuery } from './release-monitoring';
export type { MonitoringInput, MonitoringResult } from './release-monitoring';
