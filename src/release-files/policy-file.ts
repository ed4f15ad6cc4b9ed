/** Reading a release policy file (YAML or JSON), validated by the schema the workflow uses. */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { ReleasePolicySchema, type ReleasePolicy } from '../domain';

export class PolicyFileError extends Error {
  override name = 'PolicyFileError';
}

/** Load a policy file (YAML or JSON); every schema problem is named with its path. */
export async function loadPolicyFile(file: string): Promise<ReleasePolicy> {
  return (await loadWrittenPolicyFile(file)).policy;
}

/**
 * A policy file as its author wrote it (the parsed document, before defaults: what the pinned digest is of) and
 * the effective policy it gives (defaults made explicit: what is judged).
 */
export async function loadWrittenPolicyFile(
  file: string,
): Promise<{ written: Record<string, unknown>; policy: ReleasePolicy }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new PolicyFileError(
      `cannot read policy ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new PolicyFileError(`${file}: not valid YAML/JSON: ${(e as Error).message}`);
  }
  const parsed = ReleasePolicySchema.safeParse(raw);
  if (!parsed.success) {
    throw new PolicyFileError(
      `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return { written: raw as Record<string, unknown>, policy: parsed.data };
}
