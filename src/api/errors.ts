import type { ContentfulStatusCode } from 'hono/utils/http-status';

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

export function fieldIssues(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): FieldIssue[] {
  return issues.map((i) => ({ path: i.path.map(String).join('.') || '(body)', message: i.message }));
}
