/** The `simulated` live source: the worker's simulated world (`vigil simulate`, drills, tests). */
import type { LiveSource } from '../../contracts/live-source';
import type { EvidencePort } from '../../contracts/ports';
import type { TrafficSource } from '../../contracts/traffic';
import { ScoredReferences } from './evaluation-reference';
import { simulatedDrift } from './simulated-drift';
import { simulatedShadow } from './simulated-shadow';
import { simulatedWindow } from './simulated-window';
import { referenceLoader } from './monitoring-cohorts';

export function simulatedLiveSource({
  evidence,
  traffic,
}: {
  evidence: EvidencePort;
  traffic: TrafficSource;
}): LiveSource {
  const references = new ScoredReferences(evidence);
  return {
    kind: 'simulated',
    shadow: (input) => simulatedShadow(evidence, traffic, input),
    window: (input) => simulatedWindow(evidence, traffic, input, referenceLoader(evidence, references)),
    drift: (input) => simulatedDrift(evidence, traffic, references, input),
  };
}
