/**
 * The request plumbing every UI route group uses: the audit call, the page context, the sign-in and CSRF
 * answers, the body limit and the release status lookups. Built once per `createUiRoutes`.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AuthEventType } from '../auth';
import { tokensEqual } from '../auth/sessions';
import type { ReleaseStatus } from '../domain';
import { releaseStatusQuery } from '../domain/messages';
import type { UiDeps, UiEnv } from './deps';
import { errorPage, loginPage, type PageContext } from './views';

const UI_MAX_BODY = 64 * 1024;

/** A page-level refusal (404, 503) thrown from a handler and rendered by the UI's error handler. */
export class UiPageError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

/** The shared helpers of the UI route groups (see `createUiKit`). */
export interface UiKit {
  cookieName: string;
  /** The client's address, for rate limiting and the audit log. */
  addr(c: Context): string;
  /** Writes an auth audit event; a failed write is logged, never thrown at the user. */
  audit(c: Context, type: AuthEventType, user: string | null, detail?: Record<string, unknown>): Promise<void>;
  ctxOf(c: Context<UiEnv>): PageContext;
  unauthenticated(c: Context<UiEnv>): Response | Promise<Response>;
  /** The session's CSRF token must come back in the form; compared in constant time. */
  csrfOk(c: Context<UiEnv>, form: Record<string, unknown>): boolean;
  csrfRefused(c: Context<UiEnv>): Response | Promise<Response>;
  limit: MiddlewareHandler;
  /** The release's status, or null when it does not exist or cannot be queried (logged). */
  statusOrNull(releaseId: string): Promise<ReleaseStatus | null>;
  /** The release's status, or a 404/503 page. */
  statusOr404(releaseId: string): Promise<ReleaseStatus>;
}

/** The helpers, bound to the UI's dependencies. */
export function createUiKit(deps: UiDeps): UiKit {
  const addr = deps.clientAddress ?? (() => 'unknown');
  const audit: UiKit['audit'] = (c, type, user, detail = {}) =>
    deps.audit
      .record({ type, user, ip: addr(c), ...detail })
      .catch((err: unknown) => deps.log.error({ err }, 'auth audit log write failed'));
  const ctxOf = (c: Context<UiEnv>): PageContext => ({
    user: c.get('user'),
    csrf: c.get('session')?.csrfToken ?? null,
  });
  const query = (releaseId: string) => deps.client.workflow.getHandle(releaseId).query(releaseStatusQuery);
  return {
    cookieName: deps.secureCookies ? '__Host-vigil_session' : 'vigil_session',
    addr,
    audit,
    ctxOf,
    unauthenticated: (c) =>
      c.html(
        loginPage({
          next: c.req.method === 'GET' ? c.req.path : '/ui/inbox',
          usersConfigured: deps.usersConfigured,
          notice: 'Please sign in.',
          ...(deps.identities.signInWith ? { sso: deps.identities.signInWith } : {}),
        }),
        401,
      ),
    csrfOk: (c, form) => {
      const s = c.get('session');
      return s !== null && typeof form._csrf === 'string' && tokensEqual(form._csrf, s.csrfToken);
    },
    csrfRefused: (c) => {
      void audit(c, 'csrf.rejected', c.get('user')?.id ?? null, { path: c.req.path });
      return c.html(
        errorPage(ctxOf(c), 'Request refused', 'missing or invalid CSRF token; reload the page and try again'),
        403,
      );
    },
    limit: bodyLimit({ maxSize: UI_MAX_BODY, onError: (c) => c.text('request body too large', 413) }),
    async statusOrNull(releaseId) {
      try {
        return await query(releaseId);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return null;
        deps.log.warn({ releaseId, err: String(err) }, 'ui: release status query failed');
        return null;
      }
    },
    async statusOr404(releaseId) {
      try {
        return await query(releaseId);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw new UiPageError(404, 'Not found', `no release ${releaseId}`);
        throw new UiPageError(
          503,
          'Unavailable',
          `status of release ${releaseId} is unavailable right now (is a Vigil worker running?)`,
        );
      }
    },
  };
}

/** A form field as a string ('' when absent or a file). */
export function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
