import type {
  ApprovalInput,
  ApprovalResult,
  ReleaseRequestInput,
  ReleaseStatus,
  SignatureRecord,
  WithdrawalResult,
  CanaryDecisionResult,
} from '../domain';

/** Responses of the Vigil HTTP API (src/api), as the CLI reads them. */
export interface StartReleaseResponse {
  releaseId: string;
  runId: string;
  started: boolean;
}

export interface ReleaseSummary {
  releaseId: string;
  runId: string;
  status: string;
  startTime: string;
  closeTime: string | null;
  model: string | null;
  stage: string | null;
  outcome: string | null;
}

/**
 * A person's e-signature: the server re-checks the password (or, under OIDC, the ID token of a fresh sign-in at
 * the provider) and takes the signer from the account.
 */
/** User id + password (users file), or the ID token of a fresh sign-in at the identity provider (OIDC). */
export type Credentials = { username: string; password: string } | { idToken: string };

export type SignRequest = Credentials & {
  role: ApprovalInput['role'];
  decision: ApprovalInput['decision'];
  meaning: string;
  reason: string;
  dossierSha256: string;
};

/** GET /api/sso: what `vigil approve --sso` needs to run the device authorization grant. */
export interface SsoInfo {
  issuer: string;
  cliClientId: string;
  scopes: string[];
  signingMaxAgeSeconds: number;
  acrValues: string[];
}

export interface SignResponse {
  releaseId: string;
  accepted: true;
  /** The identical signature was already recorded; nothing new was signed. */
  repeated: boolean;
  signatureKey: string;
  pendingRoles: string[];
  signature: SignatureRecord;
}

/**
 * The one error type of the CLI's HTTP boundary. `refused`: the server answered 4xx with a reason;
 * `server`: it answered 5xx or something unreadable; `unreachable`: no answer at all.
 */
export class ApiClientError extends Error {
  override name = 'ApiClientError';

  constructor(
    readonly kind: 'refused' | 'server' | 'unreachable',
    message: string,
    readonly status: number | null = null,
    readonly body: unknown = null,
  ) {
    super(message);
  }
}

export interface ApiClientOptions {
  baseUrl: string;
  token: string | undefined;
  /** Approvals wait for the workflow to record the signature, so allow more than a plain read. */
  timeoutMs?: number;
}

export class ApiClient {
  private readonly baseUrl: string;

  constructor(private readonly opts: ApiClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
  }

  startRelease(request: ReleaseRequestInput): Promise<StartReleaseResponse> {
    return this.call('POST', '/api/releases', request);
  }

  listReleases(): Promise<{ releases: ReleaseSummary[] }> {
    return this.call('GET', '/api/releases');
  }

  releaseStatus(releaseId: string): Promise<ReleaseStatus> {
    return this.call('GET', `/api/releases/${encodeURIComponent(releaseId)}`);
  }

  /** How this server signs people in (OIDC: the provider and the CLI's client for the device grant), or 404. */
  sso(): Promise<SsoInfo> {
    return this.call('GET', '/api/sso');
  }

  sign(releaseId: string, input: SignRequest): Promise<SignResponse> {
    return this.call('POST', `/api/releases/${encodeURIComponent(releaseId)}/signatures`, input);
  }

  /** The signer withdraws their own approval; the server re-checks the password and takes the signer from the account. */
  withdraw(releaseId: string, input: Credentials & { reason: string }): Promise<WithdrawalResult> {
    return this.call('POST', `/api/releases/${encodeURIComponent(releaseId)}/signatures/withdraw`, input);
  }

  /** Resume or roll back a held canary; the server re-checks the password and takes the decider from the account. */
  decideCanary(
    releaseId: string,
    input: Credentials & { role: string; decision: 'resume' | 'rollback'; reason: string },
  ): Promise<CanaryDecisionResult> {
    return this.call('POST', `/api/releases/${encodeURIComponent(releaseId)}/canary-decision`, input);
  }

  /** Service-account path (the body names the signer; only the bearer token is checked). */
  approve(releaseId: string, input: ApprovalInput): Promise<ApprovalResult> {
    return this.call('POST', `/api/releases/${encodeURIComponent(releaseId)}/approvals`, input);
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const url = `${this.baseUrl}${path}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';

    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 90_000),
      });
    } catch (err) {
      throw new ApiClientError('unreachable', `cannot reach the Vigil API at ${this.baseUrl}: ${networkReason(err)}`);
    }

    const text = await res.text().catch(() => '');
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON (a proxy's error page, say): reported below by status.
    }
    if (res.ok) {
      if (parsed === null)
        throw new ApiClientError(
          'server',
          `${method} ${path}: the server answered ${res.status} without a JSON body`,
          res.status,
        );
      return parsed as T;
    }
    const reason = reasonOf(parsed) ?? (res.statusText || 'no reason given');
    const kind = res.status >= 400 && res.status < 500 ? 'refused' : 'server';
    throw new ApiClientError(kind, `${reason} (HTTP ${res.status})`, res.status, parsed);
  }
}

/** `error` plus any field issues, on one line. */
function reasonOf(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || !('error' in body) || typeof body.error !== 'string') return null;
  const issues =
    'issues' in body && Array.isArray(body.issues) ? (body.issues as Array<{ path?: unknown; message?: unknown }>) : [];
  const detail = issues.map((i) => `${String(i.path)}: ${String(i.message)}`).join('; ');
  return detail ? `${body.error}: ${detail}` : body.error;
}

function networkReason(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return 'timed out';
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}
