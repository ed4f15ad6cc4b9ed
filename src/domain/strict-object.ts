import { z } from 'zod';

/**
 * An object schema that refuses keys it does not know, naming each by its full path: a key dropped
 * silently would leave a document that means less than its author wrote (and a digest of something else).
 */
export function strictObject<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.strictObject(shape, { error: unknownKeys });
}

function unknownKeys(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code !== 'unrecognized_keys') return undefined;
  const keys = (issue as unknown as { keys: string[] }).keys;
  const paths = keys.map((k) => [...(issue.path ?? []), k].join('.'));
  return `unknown key${paths.length > 1 ? 's' : ''} ${paths.join(', ')}: not part of the schema, refused rather than ignored`;
}
