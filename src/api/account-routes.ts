/**
 * The routes where a person acts with their own account (user id + password re-checked for each act): sign,
 * withdraw a signature, decide a held canary, adjudicate a shadow disagreement. Without accounts they answer 503.
 */
import type { Context, Hono } from 'hono';
import { adjudicationHandler } from './adjudication';
import { ApiError } from './errors';
import { limitBody, readJson, requireJson } from './http';
import {
  canaryDecisionHandler,
  signatureHandler,
  withdrawalHandler,
  type SignatureRouteDeps,
} from './esignature-routes';

type Handler = (c: Context, body: unknown) => Promise<Response>;

const NO_SIGNING = 'signing is not configured on this server (no users file: set VIGIL_USERS_FILE)';
const NO_ACCOUNTS = 'accounts are not configured on this server (no users file: set VIGIL_USERS_FILE)';

const ROUTES: { path: string; handler: (deps: SignatureRouteDeps) => Handler; unconfigured: string }[] = [
  // The e-signature of a person: signer and printed name from the account.
  { path: '/releases/:id/signatures', handler: signatureHandler, unconfigured: NO_SIGNING },
  // The signer withdraws their own approval while sign-off is open.
  { path: '/releases/:id/signatures/withdraw', handler: withdrawalHandler, unconfigured: NO_SIGNING },
  // A person resumes or rolls back a held canary.
  { path: '/releases/:id/canary-decision', handler: canaryDecisionHandler, unconfigured: NO_SIGNING },
  // A reviewer adjudicates one sampled shadow disagreement (the web UI does the same from a session).
  { path: '/releases/:id/adjudications', handler: adjudicationHandler, unconfigured: NO_ACCOUNTS },
];

/** Registers the account routes; `signing` undefined makes each answer 503 with the reason. */
export function registerAccountRoutes(api: Hono, signing: SignatureRouteDeps | undefined): void {
  // Under OIDC: what `vigil approve --sso` needs for the device grant (public facts, no secret).
  api.get('/sso', (c) => {
    const s = signing?.idTokens?.settings;
    if (!s?.cliClientId)
      throw new ApiError(
        404,
        'this server does not sign through an identity provider for the CLI (VIGIL_OIDC_CLI_CLIENT_ID)',
      );
    return c.json({
      issuer: s.issuer,
      cliClientId: s.cliClientId,
      scopes: s.scopes,
      signingMaxAgeSeconds: s.signingMaxAgeSeconds,
      acrValues: s.signingAcr,
    });
  });
  for (const route of ROUTES) {
    const handle = signing ? route.handler(signing) : null;
    api.post(route.path, requireJson, limitBody, async (c) => {
      if (!handle) throw new ApiError(503, route.unconfigured);
      return handle(c, await readJson(c));
    });
  }
}
