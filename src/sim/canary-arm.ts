import { assignmentSalt, inCanary } from '../stats/arm-assignment';

/**
 * Stable assignment, as the gateway assigns the simulated requests (src/gateway/routing.ts `assign`): the driver
 * sends no patient_id, so the routing key is the case id (one case per simulated patient), salted with the model
 * (and the release when given). Canary at p stays canary above p.
 */
export function inCanaryArm(caseId: string, percent: number, model: string, release?: string | null): boolean {
  return inCanary(caseId, assignmentSalt(model, release), percent);
}
