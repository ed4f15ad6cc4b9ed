/**
 * Signature meanings (21 CFR 11.50(a)(3)): what a signature means is chosen from a defined list per role, never
 * typed freely, so "approved" always means the same thing in every record. The users file may define the lists
 * (`meanings: { qa: [...], ... }`); these are the defaults.
 */
import type { Role } from '../domain/policy';

export const DEFAULT_SIGNATURE_MEANINGS: readonly string[] = ['reviewed', 'approved', 'responsible for'];

/** The meanings a signer holding `role` may choose from. */
export function meaningsFor(source: { signatureMeanings?(role: Role): readonly string[] }, role: Role): string[] {
  const own = source.signatureMeanings?.(role);
  return [...(own && own.length > 0 ? own : DEFAULT_SIGNATURE_MEANINGS)];
}

/** Null when `meaning` is in the role's list; otherwise the refusal, naming the list. */
export function meaningRefusal(
  source: { signatureMeanings?(role: Role): readonly string[] },
  role: Role,
  meaning: string,
): string | null {
  const list = meaningsFor(source, role);
  return list.includes(meaning)
    ? null
    : `meaning "${meaning}" is not one of the defined meanings for ${role}: ${list.map((m) => `"${m}"`).join(', ')}`;
}
