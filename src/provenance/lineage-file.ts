/** Reading a dataset's lineage file (YAML or JSON) and its split key, with one clear line per problem. */
import fs from 'node:fs';
import { DatasetLineageSchema, type DatasetLineage } from '../domain/dataset-manifest';
import { parseYamlOrJson } from './files';
import { ManifestInputError, type SplitKey } from './manifest-builder';

/** A ManifestInputError unless `file` is an existing regular file. */
export function requireFile(file: string, what: string): void {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new ManifestInputError(`${what} not found: ${file}`);
}

/** The lineage, validated; the first schema issue (and how many more) in the error. */
export function readLineage(file: string): DatasetLineage {
  requireFile(file, 'lineage file');
  let raw: unknown;
  try {
    raw = parseYamlOrJson(fs.readFileSync(file, 'utf8'), file);
  } catch (err) {
    throw new ManifestInputError(`${file}: not valid YAML/JSON (${(err as Error).message.split('\n')[0]})`);
  }
  const parsed = DatasetLineageSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : '(root)';
    const more = parsed.error.issues.length > 1 ? ` (+${parsed.error.issues.length - 1} more)` : '';
    throw new ManifestInputError(`${file}: ${where}: ${issue.message}${more}`);
  }
  return parsed.data;
}

/** The HMAC key of the lineage's patient-level split, from a key file. */
export function readSplitKey(file: string, lineage: DatasetLineage): SplitKey {
  requireFile(file, 'split key file');
  const assembly = lineage.steps?.find((s) => s.kind === 'assembly');
  const keyId = assembly?.kind === 'assembly' ? assembly.split?.keyId : undefined;
  if (!keyId) throw new ManifestInputError('--split-key given but the lineage has no assembly.split with a keyId');
  const secret = fs.readFileSync(file);
  // A trailing newline from an editor or `echo` is not part of the key.
  const end = secret.length > 0 && secret[secret.length - 1] === 0x0a ? secret.length - 1 : secret.length;
  return { keyId, secret: secret.subarray(0, end) };
}
