import { ApplicationFailure } from '@temporalio/workflow';
import { ErrorType } from '../domain';
import type { SafeParser } from '../domain/safe-parser';

/** A workflow's input, validated: a bad one fails the run at once with a typed, non-retryable reason per field. */
export function parseInput<T>(schema: SafeParser<T>, raw: unknown, what: string): T {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const fields = parsed.error.issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`);
  throw ApplicationFailure.nonRetryable(`invalid ${what}: ${fields.join('; ')}`, ErrorType.InvalidRequest, fields);
}
