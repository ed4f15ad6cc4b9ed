/** The two live sources (contract: src/contracts/live-source.ts); the worker picks one at start-up. */
export { gatewayTelemetryLiveSource } from './gateway-telemetry';
export { simulatedLiveSource } from './simulated';
