/**
 * The audit's check of a signature's OpenID authentication (issue #21): when a signature record says an OpenID
 * provider authenticated the signer, every field the re-authentication rests on must be there and agree with the
 * record — the authentication before the signature, and no older than the max age then in force. The same
 * check applies to the other acts that require a fresh authentication: withdrawals, canary decisions and
 * adjudications (`what` names the act in findings).
 */
import { SignerAuthenticationSchema, type SignerAuthentication } from '../domain/approval';
import type { Finding } from './chain';

/** What the manifestation shows of an OIDC authentication. */
export type AuthenticationSummary = Pick<SignerAuthentication, 'issuer' | 'subject' | 'authTime' | 'acr' | 'amr'>;

/** The summary (when the record carries a well-formed one) and the findings for one signature record. */
export function checkSignerAuthentication(
  doc: Record<string, unknown>,
  key: string,
  what = 'signature',
): { authentication?: AuthenticationSummary; findings: Finding[] } {
  const raw = doc.authentication;
  if (raw === undefined) return { findings: [] };
  const parsed = SignerAuthenticationSchema.safeParse(raw);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(record)'))];
    return {
      findings: [{ key, problem: `OIDC ${what} lacks or has malformed authentication fields: ${fields.join(', ')}` }],
    };
  }
  const a = parsed.data;
  const findings: Finding[] = [];
  const signedAt = typeof doc.at === 'string' ? Date.parse(doc.at) : NaN;
  const authAt = Date.parse(a.authTime);
  const tolMs = (a.clockToleranceSeconds ?? 0) * 1000;
  if (!Number.isFinite(signedAt)) {
    findings.push({ key, problem: `OIDC ${what} has no valid time to compare auth_time with` });
  } else if (authAt > signedAt + tolMs) {
    findings.push({
      key,
      problem: `OIDC authentication is later than the ${what}`,
      expected: `≤ ${doc.at as string}`,
      actual: a.authTime,
    });
  } else if (signedAt - authAt > a.maxAgeSeconds * 1000 + tolMs) {
    findings.push({
      key,
      problem: `OIDC authentication is older than the ${a.maxAgeSeconds} s allowed at ${what === 'signature' ? 'signing' : `the ${what}`}`,
      expected: `≥ ${new Date(signedAt - a.maxAgeSeconds * 1000 - tolMs).toISOString()}`,
      actual: a.authTime,
    });
  }
  return {
    authentication: {
      issuer: a.issuer,
      subject: a.subject,
      authTime: a.authTime,
      ...(a.acr !== undefined ? { acr: a.acr } : {}),
      ...(a.amr !== undefined ? { amr: a.amr } : {}),
    },
    findings,
  };
}
