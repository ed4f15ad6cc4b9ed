import {
  ReleaseRequestSchema,
  type ReleasePolicyInput,
  type ReleaseRequest,
  type ReleaseRequestInput,
} from '../../src/domain';

/** A lowercase 64-hex digest derived from a label, so fixtures stay readable and distinct. */
export function hex64(label: string): string {
  return Buffer.from(label).toString('hex').padEnd(64, '0').slice(0, 64);
}

/** A policy that satisfies ReleasePolicySchema (increasing canary steps, distinct roles). */
export function validPolicy(overrides: Partial<ReleasePolicyInput> = {}): ReleasePolicyInput {
  return {
    id: 'sepsis-alert-release',
    version: '2026.11-test',
    registeredAt: '2026-06-01T09:00:00Z',
    operatingThreshold: 0.3,
    offline: {
      attributes: ['site'],
      acceptance: {
        version: 1,
        criteria: [
          { id: 'auc-non-inferior', kind: 'non-inferiority', margin: 0.01, alpha: 0.025 },
          {
            id: 'site-sensitivity-drop',
            kind: 'max-drop',
            metric: 'sensitivity',
            maxDrop: 0.03,
            slices: { attributes: ['site'] },
            minN: 100,
          },
        ],
      },
    },
    shadow: { durationSeconds: 5, cases: 1000, minAgreement: 0.8 },
    approval: { requiredRoles: ['qa', 'clinical'], expirySeconds: 86400 },
    canary: {
      steps: [
        { percent: 10, bakeSeconds: 5, cases: 4000 },
        { percent: 50, bakeSeconds: 5, cases: 2000 },
      ],
      guardrails: { maxSensitivityDrop: 0.1, maxAlertRateRatio: 1.5, minPositives: 20 },
    },
    monitoring: {
      intervals: 3,
      intervalSeconds: 5,
      cases: 1000,
      intervalsPerRun: 2,
      guardrails: { maxSensitivityDrop: 0.1, maxAlertRateRatio: 1.5, minPositives: 20 },
    },
    ...overrides,
  };
}

/** A release request that satisfies ReleaseRequestSchema. */
export function validReleaseRequest(overrides: Partial<ReleaseRequestInput> = {}): ReleaseRequestInput {
  return {
    modelName: 'sepsis-alert',
    candidate: {
      version: '2.1.0',
      artifact: { key: 'models/sepsis-alert/2.1.0.json', sha256: hex64('candidate') },
      trainingStartedAt: '2026-09-15T08:00:00Z',
    },
    incumbent: { version: '2.0.0', artifact: { key: 'models/sepsis-alert/2.0.0.json', sha256: hex64('incumbent') } },
    datasets: [
      {
        role: 'training',
        name: 'train-2026q2',
        artifact: { key: 'datasets/train-2026q2.csv', sha256: hex64('train') },
      },
      { role: 'evaluation', name: 'eval-2026q2', artifact: { key: 'datasets/eval-2026q2.csv', sha256: hex64('eval') } },
    ],
    codeCommit: '0123456789abcdef0123456789abcdef01234567',
    submittedBy: 'dev.alice',
    reason: 'retrained on refreshed 2026Q2 data',
    trigger: { kind: 'api' },
    policy: validPolicy(),
    ...overrides,
  };
}

/**
 * The same request parsed (defaults applied), typed as the workflow receives it; a fresh object per call. Without
 * the policy as written: tests edit the effective policy in place, and a request whose written document no longer
 * gives its policy is refused, so the edited policy stands as written (the workflow fills it in again).
 */
export function validRequest(overrides: Partial<ReleaseRequestInput> = {}): ReleaseRequest {
  const { policyAsWritten: _written, ...request } = ReleaseRequestSchema.parse(validReleaseRequest(overrides));
  return request;
}

/** An approval body that satisfies ApprovalInputSchema. */
export function validApproval(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    signer: 'qa.bob',
    printedName: 'Bob Quality',
    role: 'qa',
    decision: 'approve',
    meaning: 'I approve this release',
    reason: 'dossier reviewed',
    dossierSha256: hex64('dossier'),
    ...overrides,
  };
}
