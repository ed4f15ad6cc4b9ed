/**
 * The JSON API's request plumbing: bearer token, JSON content type and size, body parsing, the error handler
 * (ApiError → status + reason; Temporal or the shared-state database unreachable → 503), and a timeout for calls
 * a worker must answer.
 */
import crypto from 'node:crypto';
import { ServiceError } from '@temporalio/client';
import type { Context, ErrorHandler, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from '../logging/logger';
import { StateUnavailableError } from '../state';
import { ApiError } from './errors';

export const MAX_BODY_BYTES = 256 * 1024;

/** Bearer token check in constant time; no token configured means the API is open (local development). */
export function requireToken(token: string | undefined): MiddlewareHandler {
  const expected = token === undefined ? undefined : digest(token);
  return async (c, next) => {
    if (expected !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '');
      if (!match || !crypto.timingSafeEqual(digest(match[1]!), expected)) {
        c.header('WWW-Authenticate', 'Bearer realm="vigil"');
        throw new ApiError(401, 'missing or invalid bearer token');
      }
    }
    await next();
  };
}

const digest = (s: string): Buffer => crypto.createHash('sha256').update(s, 'utf8').digest();

/** Content type first (415), then size (413): a JSON body of at most MAX_BODY_BYTES. */
export const requireJson: MiddlewareHandler = async (c, next) => {
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new ApiError(415, 'content-type must be application/json');
  await next();
};

/** 413 over MAX_BODY_BYTES. */
export const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new ApiError(413, `request body exceeds ${MAX_BODY_BYTES} bytes`);
  },
});

/** The body as JSON; 400 with the parser's reason. */
export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, `malformed JSON: ${(err as Error).message}`);
  }
}

/** Refusals as `{ error, ...details }` with their status; anything unexpected is logged and answered 500. */
export function apiErrorHandler(log: Logger): ErrorHandler {
  return (err, c) => {
    if (err instanceof ApiError) {
      if (err.status >= 500)
        log.error({ err: err.cause ?? err, method: c.req.method, path: c.req.path }, 'api request failed');
      return c.json({ error: err.message, ...err.details }, err.status);
    }
    if (err instanceof HTTPException)
      return c.json({ error: err.message || 'request failed' }, err.status as ContentfulStatusCode);
    if (err instanceof StateUnavailableError) {
      log.warn({ err: String(err.cause), method: c.req.method, path: c.req.path }, 'shared-state database unavailable');
      return c.json({ error: 'the shared-state database is unavailable; try again shortly' }, 503);
    }
    if (temporalUnavailable(err)) {
      log.warn({ err: String(err.cause), method: c.req.method, path: c.req.path }, 'temporal unavailable');
      return c.json({ error: 'Temporal is unavailable; try again shortly' }, 503);
    }
    log.error({ err, method: c.req.method, path: c.req.path }, 'unhandled api error');
    return c.json({ error: 'internal error' }, 500);
  };
}

/** `withTimeout` gave up first. */
export class DeadlineError extends Error {}

const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;

/** The client gave up reaching the frontend (after its own retries): a 503, not a bug. */
function temporalUnavailable(err: unknown): err is ServiceError {
  const code = err instanceof ServiceError ? (err.cause as { code?: unknown } | undefined)?.code : undefined;
  return code === GRPC_UNAVAILABLE || code === GRPC_DEADLINE_EXCEEDED;
}

/** `p`, or a DeadlineError after `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
