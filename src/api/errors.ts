import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';

/**
 * The one error type of the HTTP boundary: a status, a message a person can act on, and optional
 * machine-readable details merged into the JSON body. Anything else that reaches onError is a bug (500).
 */
export class ApiError extends Error {
  override name = 'ApiError';

  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** One zod issue, flattened for clients: `candidate.artifact.sha256`, not a path array. */
export interface FieldIssue {
  path: string;
  message: string;
}

export function fieldIssues(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
): FieldIssue[] {
  return issues.map((i) => ({ path: i.path.map(String).join('.') || '(body)', message: i.message }));
}

/** Validate a parsed body; a failure is a 400 listing every field issue. */
export function parseWith<S extends z.ZodType>(schema: S, body: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new ApiError(400, what, { issues: fieldIssues(parsed.error.issues) });
  return parsed.data;
}
