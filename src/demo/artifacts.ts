/**
 * The bundled demo: a deterioration-alert model "sepsis-alert" whose candidate v2 ranks better than
 * the deployed v1 but raises more alerts. Everything is generated deterministically from seeds, so the
 * committed files under demo/ can be re-derived and checked (test/unit/demo-data.test.ts).
 */
import { cohortToCsv, FEATURES, generateCohort } from '../sim/cohort';
import type { LogisticModel } from '../models/logistic';

export const DEMO_MODEL_NAME = 'sepsis-alert';

export const DEMO_INCUMBENT: LogisticModel = {
  format: 'vigil.logistic/v1',
  name: DEMO_MODEL_NAME,
  version: '1.4.0',
  features: [...FEATURES],
  weights: [0.9, -0.55, 0.3, 0.45, -0.1, 0.15, 0.0, 0.1],
  bias: -1.6,
};

export const DEMO_CANDIDATE: LogisticModel = {
  format: 'vigil.logistic/v1',
  name: DEMO_MODEL_NAME,
  version: '2.0.0',
  features: [...FEATURES],
  weights: [1.05, -0.75, 0.65, 0.5, -0.35, 0.3, 0.2, 0.0],
  bias: -1.5,
};

/**
 * A second candidate that tells the other story: it adds the lactate-trend feature x7 and raises the
 * alert threshold to cut alarm fatigue. Overall AUC improves, but site C does not record x7, and there
 * it misses more patients than the model in production — the offline gate must block it, naming site C.
 */
export const DEMO_CANDIDATE_SITE_REGRESSION: LogisticModel = {
  format: 'vigil.logistic/v1',
  name: DEMO_MODEL_NAME,
  version: '2.1.0',
  features: [...FEATURES],
  weights: [1.05, -0.75, 0.65, 0.5, -0.35, 0.3, 0.2, 0.6],
  bias: -1.9,
};

export const DEMO_CANDIDATES = { [DEMO_CANDIDATE.version]: DEMO_CANDIDATE, [DEMO_CANDIDATE_SITE_REGRESSION.version]: DEMO_CANDIDATE_SITE_REGRESSION };

/** File name (under demo/) → contents. */
export function demoFiles(): Record<string, string> {
  const json = (m: LogisticModel) => `${JSON.stringify(m, null, 2)}\n`;
  return {
    'models/sepsis-alert-1.4.0.json': json(DEMO_INCUMBENT),
    'models/sepsis-alert-2.0.0.json': json(DEMO_CANDIDATE),
    'models/sepsis-alert-2.1.0.json': json(DEMO_CANDIDATE_SITE_REGRESSION),
    'data/training.csv': cohortToCsv(generateCohort('demo:training', 2000)),
    'data/evaluation.csv': cohortToCsv(generateCohort('demo:evaluation', 3000)),
  };
}
