import type { TrafficSource } from '../activities/deps';
import { FEATURES, generateCohort } from './cohort';

/** Simulated live traffic with outcomes: each window is a reproducible draw from the synthetic cohort. */
export class SimulatedTraffic implements TrafficSource {
  async cases(window: string, n: number) {
    return { columns: FEATURES, cases: generateCohort(`traffic:${window}`, n) };
  }
}
