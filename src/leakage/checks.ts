/**
 * Leakage findings, the keyed patient-id hash, patient overlap and the verdict. Each check returns findings with a
 * plain-language reason, and any finding fails the gate (see leakageVerdict). Raw patient ids never leave here.
 */
import crypto from 'node:crypto';

import type { LeakageCheckName } from '../domain/leakage-policy';

export type LeakageCheck = LeakageCheckName;

export interface LeakageFinding {
  check: LeakageCheck;
  reason: string;
  /** How many ids/rows are affected (patient-overlap, duplicate-rows). */
  count?: number;
  /** A few hashed ids or row digests, never raw values. */
  examples?: string[];
  feature?: string;
  auc?: number;
  /** The site a per-site finding was judged at. */
  site?: string;
}

export class LeakageInputError extends Error {
  override readonly name = 'LeakageInputError';
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const EXAMPLES = 3;

/** Keyed hash of a patient id (HMAC-SHA256, hex). Both splits must be hashed with the same key. */
export function hashPatientId(id: string, key: Uint8Array | string): string {
  if (id === '') throw new LeakageInputError('empty patient id');
  return crypto.createHmac('sha256', key).update(id, 'utf8').digest('hex');
}

/**
 * Patients present in both splits. Inputs must already be hashed (64 hex characters) so a report can
 * quote examples without exposing who the patients are.
 */
export function patientOverlap(training: Iterable<string>, evaluation: Iterable<string>): LeakageFinding[] {
  const train = hashedSet(training, 'training');
  const seen = new Set<string>();
  const examples: string[] = [];
  for (const h of hashedSet(evaluation, 'evaluation')) {
    if (!train.has(h) || seen.has(h)) continue;
    seen.add(h);
    if (examples.length < EXAMPLES) examples.push(h);
  }
  if (seen.size === 0) return [];
  return [
    {
      check: 'patient-overlap',
      count: seen.size,
      examples,
      reason: `${seen.size} patient(s) appear in both the training and the evaluation data; a model evaluated on patients it was trained on looks better than it is. Split by patient.`,
    },
  ];
}

function hashedSet(ids: Iterable<string>, split: string): Set<string> {
  const out = new Set<string>();
  for (const id of ids) {
    if (!SHA256_HEX.test(id))
      throw new LeakageInputError(
        `${split} patient ids must be hashed (64 lowercase hex characters); hash them with hashPatientId before the check`,
      );
    out.add(id);
  }
  return out;
}

export interface LeakageVerdict {
  verdict: 'pass' | 'fail';
  checks: LeakageCheck[];
  findings: LeakageFinding[];
  summary: string;
}

/** Any finding fails: a leak is not something to weigh against good metrics. */
export function leakageVerdict(checks: readonly LeakageCheck[], findings: readonly LeakageFinding[]): LeakageVerdict {
  if (checks.length === 0) throw new RangeError('no leakage check ran; an empty verdict would be a silent pass');
  const failed = findings.length > 0;
  return {
    verdict: failed ? 'fail' : 'pass',
    checks: [...checks],
    findings: [...findings],
    summary: failed
      ? `leakage detected: ${findings.map((f) => f.check + (f.feature ? ` (${f.feature})` : f.count !== undefined ? ` (${f.count})` : '')).join(', ')}`
      : `no leakage found by ${checks.length} check(s): ${checks.join(', ')}`,
  };
}
