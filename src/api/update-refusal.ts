/**
 * How a workflow Update's failure reads to the person who sent it, shared by sign-off (signatures, withdrawals,
 * canary decisions) and adjudication: the validator's typed refusals by HTTP status, a timeout as 503, a release
 * no longer running as 409, anything else as 500 (logged).
 */
import {
  ApplicationFailure,
  ServiceError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ErrorType } from '../domain';
import type { Logger } from '../logging/logger';

/** An Update the release did not take, with the status and validator type to answer with. */
export class UpdateRefusal extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly type?: string,
  ) {
    super(message);
  }
}

/** The validator's ApplicationFailure type behind a failed Update, if it has one. */
export function refusalType(err: WorkflowUpdateFailedError): string | undefined {
  return err.cause instanceof ApplicationFailure ? (err.cause.type ?? undefined) : undefined;
}

export interface RefusalContext<R extends UpdateRefusal> {
  releaseId: string;
  /** What was sent, as the messages name it ("signature", "adjudication", "canary decision"). */
  what: string;
  /** The validator's refusal types and the HTTP status each reads as. */
  statuses: Record<string, ContentfulStatusCode>;
  log: Logger;
  /** Logged with the error when the failure is not one the validator designed. */
  logMessage: string;
  /** What the person should do after a 500 or 503: "trying again" unless said. */
  again?: string;
  refuse: (status: ContentfulStatusCode, message: string, type?: string) => R;
}

/** The refusal for an Update's failure; rethrows what is not an Update failure. */
export function updateRefusal<R extends UpdateRefusal>(err: unknown, c: RefusalContext<R>): R {
  const again = c.again ?? 'trying again';
  if (err instanceof WorkflowUpdateFailedError) {
    const type = refusalType(err);
    const status = type ? c.statuses[type] : undefined;
    if (status !== undefined) return c.refuse(status, (err.cause as ApplicationFailure).message, type);
    c.log.error({ releaseId: c.releaseId, err }, c.logMessage);
    return c.refuse(500, `the ${c.what} could not be recorded; check the release before ${again}`);
  }
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
    return c.refuse(503, `timed out waiting for the release to take the ${c.what}; check the release before ${again}`);
  }
  if (err instanceof WorkflowNotFoundError || err instanceof ServiceError) {
    return c.refuse(409, `release ${c.releaseId} is not running any more`, ErrorType.ReleaseFinished);
  }
  throw err;
}
