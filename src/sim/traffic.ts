import type { TrafficSource } from '../contracts/traffic';
import type { TrafficScenario } from '../domain';
import { FEATURES, generateCohort } from './cohort';
import { applyScenario } from './scenario';

/**
 * Simulated live traffic with outcomes: each window is a reproducible draw from the synthetic cohort. With a
 * scenario (VIGIL_TRAFFIC_SCENARIO, `vigil simulate`), its fault, population shift and outcome delays apply to every window.
 */
export class SimulatedTraffic implements TrafficSource {
  constructor(readonly scenario?: TrafficScenario) {}

  async cases(window: string, n: number, interval?: number) {
    const cases = generateCohort(`traffic:${window}`, n);
    // Monitoring windows are named `monitoring:…` (observeLive, observeDrift): a monitoring-only shift starts there.
    const phase = window.startsWith('monitoring:') ? 'monitoring' : 'canary';
    return {
      columns: FEATURES,
      cases: this.scenario ? applyScenario(cases, FEATURES, this.scenario, interval ?? null, phase) : cases,
    };
  }
}
