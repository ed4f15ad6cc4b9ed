import { z } from 'zod';
import type { EvidenceRef } from './evidence';
import type { RouteState } from './release';
import { ReleaseRequestSchema, type ReleaseRequestInput } from './release';
import { SequentialGuardrailsSchema } from './policy';
import { TrafficScenarioSchema } from './simulation';

/**
 * A rollback drill (`vigil drill rollback`): a release's candidate and incumbent, its canary steps and
 * guardrails, run against a simulated regression on a drill route table that no patient traffic uses.
 */
export const DrillInputSchema = z.object({
  request: ReleaseRequestSchema,
  scenario: TrafficScenarioSchema,
  /** Used when the release's policy has no sequential canary guardrails of its own. */
  guardrails: SequentialGuardrailsSchema.optional(),
  requestedBy: z.string().min(1).max(128),
  /** The release the drill was taken from, when there is one. */
  fromRelease: z.string().max(256).optional(),
});
// The request's input type is named: its schema keeps the policy as written, which hides its shape from z.input.
export type DrillInput = Omit<z.input<typeof DrillInputSchema>, 'request'> & { request: ReleaseRequestInput };

/** The route table a drill moves: never the clinical one. */
export const drillRouteModel = (modelName: string): string => `${modelName}.drill`;

export interface DrillLook {
  look: number;
  step: number;
  extension: number;
  percent: number;
  verdict: string;
  canary: { positives: number; truePositives: number; sensitivity: number | null; n: number; alerts: number };
  control: { positives: number; truePositives: number; sensitivity: number | null; n: number; alerts: number };
  /** Cumulative drop (control − canary) and its confidence-sequence bounds at this look. */
  drop: number | null;
  lower: number | null;
  upper: number | null;
}

export interface DrillStatus {
  drillId: string;
  modelName: string;
  phase: 'CANARY' | 'ROLLED_BACK' | 'NOT_DETECTED' | 'DONE';
  looks: DrillLook[];
  routes: RouteState | null;
}

export interface DrillReport {
  kind: 'vigil.drill-report/v1';
  drillId: string;
  fromRelease: string | null;
  requestedBy: string;
  modelName: string;
  routeTable: string;
  candidateVersion: string;
  incumbentVersion: string;
  scenario: z.infer<typeof TrafficScenarioSchema>;
  guardrails: z.infer<typeof SequentialGuardrailsSchema>;
  startedAt: string;
  endedAt: string;
  looks: DrillLook[];
  /** The regression was caught: the guardrails failed and the canary was rolled back. */
  detected: boolean;
  detectedAtLook: number | null;
  /** Workflow seconds from the first canary route to the rollback. */
  secondsToDetect: number | null;
  rollback: {
    cause: string;
    record: EvidenceRef;
    notification: EvidenceRef | null;
    routesBefore: RouteState | null;
    routesAfter: RouteState;
  } | null;
  /** Every route serves the incumbent again, with no canary. */
  routesRestored: boolean;
  passed: boolean;
  summary: string;
}

export interface DrillResult {
  drillId: string;
  passed: boolean;
  summary: string;
  report: EvidenceRef;
}
