/**
 * Stable randomisation of patients to the canary arm: one function for the gateway (src/gateway/routing.ts) and
 * the simulated canary (src/sim/canary-arm.ts), so a patient lands in the same arm in both.
 *
 * The unit of assignment is the patient, not the case: a patient's cases all share one bucket, so no patient is
 * seen by both models (with per-case buckets and 5 cases per patient at 10 %, 1 − 0.9⁵ − 0.1⁵ = 41 % of patients
 * had cases in both arms). The bucket is salted with the model (and the release, when the policy asks), so two
 * models — or two releases — draw independent canary sets instead of always exposing the same patients.
 */
import { createHash } from 'node:crypto';

/** Why an id cannot key an assignment (blank or a placeholder). */
export class AssignmentKeyError extends Error {
  override readonly name = 'AssignmentKeyError';
}

/**
 * Texts that stand for "no id": every request sent with one would pin all its traffic to one arm. Compared after
 * normalisation (so " N/A " and "NULL" are refused too).
 */
const PLACEHOLDERS = new Set([
  'na',
  'n/a',
  'nan',
  'null',
  'nil',
  'none',
  'unknown',
  'undefined',
  'missing',
  'anonymous',
  'anon',
  'test',
  'patient',
  '-',
  '?',
  '0',
]);

/**
 * An id as assignment compares it: Unicode NFKC, surrounding whitespace dropped, inner whitespace collapsed, case
 * folded, and leading zeros of every digit run dropped ("T0007", "t7", " t007 " are one patient). Throws
 * AssignmentKeyError for a blank id or a placeholder.
 */
export function normalisePatientKey(id: string): string {
  const n = id
    .normalize('NFKC')
    .trim()
    .replace(/\s+/g, ' ')
    .toLowerCase()
    .replace(/(^|\D)0+(?=\d)/g, '$1');
  if (n === '') throw new AssignmentKeyError('the patient id is blank');
  if (PLACEHOLDERS.has(n) || !/[\p{L}\p{N}]/u.test(n))
    throw new AssignmentKeyError(`"${id}" is a placeholder, not a patient id`);
  return n;
}

/** The salt of a model's canary: its name, and the release when the policy salts per release. */
export function assignmentSalt(model: string, release?: string | null): string {
  return release ? `model:${model}|release:${release}` : `model:${model}`;
}

/**
 * Position of a patient in [0, 100): the first 32 bits of SHA-256(salt ‖ 0x00 ‖ normalised key). The separator
 * keeps ("ab", "c") and ("a", "bc") apart.
 */
export function patientBucket(patientKey: string, salt: string): number {
  const h = createHash('sha256').update(salt).update('\u0000').update(normalisePatientKey(patientKey)).digest();
  return (h.readUInt32BE(0) / 2 ** 32) * 100;
}

/** Whether the patient is in the canary arm of a step at `percent` (monotone: canary at p stays canary above p). */
export function inCanary(patientKey: string, salt: string, percent: number): boolean {
  return percent > 0 && patientBucket(patientKey, salt) < percent;
}
