/**
 * Patient ids made comparable across splits: raw ids are normalised (Unicode NFKC, case, whitespace, leading zeros of
 * every digit run: "T0007", " t7 " and "t 007" are one patient) and then hashed with one key for both splits. Ids a
 * site hashed itself (64 lowercase hex) can only be compared with ids hashed the same way; hashed against raw is
 * refused, never a silent pass.
 */
import { hashPatientId, LeakageInputError } from './checks';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The canonical form of a raw patient id; an id that normalises to nothing is a placeholder and refused. */
export function normalisePatientId(id: string): string {
  const n = id
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\s+/g, '')
    .replace(/\d+/g, (digits) => digits.replace(/^0+(?=\d)/, ''));
  if (n === '') throw new LeakageInputError(`patient id ${JSON.stringify(id)} is blank: a placeholder, not a patient`);
  return n;
}

export type ComparableIds =
  | { ok: true; training: string[]; evaluation: string[]; how: 'site-hashed' | 'normalised' }
  | { ok: false; reason: string };

/** Both splits' ids through the same keyed hash, or why they cannot be compared. */
export function comparablePatientIds(
  training: readonly string[],
  evaluation: readonly string[],
  key: string,
): ComparableIds {
  const hashed = (ids: readonly string[]) => ids.length > 0 && ids.every((id) => SHA256_HEX.test(id));
  const [ht, he] = [hashed(training), hashed(evaluation)];
  if (ht && he) return { ok: true, training: [...training], evaluation: [...evaluation], how: 'site-hashed' };
  if (ht !== he)
    return {
      ok: false,
      reason: `patient ids are hashed in the ${ht ? 'training' : 'evaluation'} split and raw in the ${ht ? 'evaluation' : 'training'} split; hash both with the same key (after normalising) so they can be compared`,
    };
  const h = (id: string) => hashPatientId(normalisePatientId(id), key);
  return { ok: true, training: training.map(h), evaluation: evaluation.map(h), how: 'normalised' };
}
