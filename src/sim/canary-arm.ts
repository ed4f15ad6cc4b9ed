import { createHash } from 'node:crypto';

/** Stable assignment: a case (patient) always lands in the same arm for a given percentage. */
export function inCanaryArm(caseId: string, percent: number): boolean {
  const bucket = createHash('sha256').update(caseId).digest().readUInt32BE(0) / 2 ** 32;
  return bucket * 100 < percent;
}
