export { releaseLifecycle } from './release-lifecycle';
export { releaseMonitoring, monitoringStatusQuery } from './release-monitoring';
export type { MonitoringInput, MonitoringResult, MonitoringStatus } from './release-monitoring';
export { releaseQueue } from './release-queue';
export { rollbackDrill } from './rollback-drill';
