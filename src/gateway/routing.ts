import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { RouteState } from '../domain';
import { AssignmentKeyError, assignmentSalt, inCanary, normalisePatientKey } from '../stats/arm-assignment';
import { OipRequestError } from './oip';

const version = z.string().min(1).max(64);

/**
 * A canary cohort rule: the request parameter `attribute` must (or must not) be one of `values`. Values compare
 * trimmed and case-folded ("s2", " S2 " and "S2" are one site). A request without the attribute (or with a blank
 * one) fails every rule, `notIn` included, unless the rule says `missing: 'include'`: an unknown cohort never
 * reaches the canary by default.
 */
export const CohortRuleSchema = z
  .object({
    attribute: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'a request parameter name (lowercase, digits, _)'),
    in: z.array(z.string().max(128)).min(1).max(256).optional(),
    notIn: z.array(z.string().max(128)).min(1).max(256).optional(),
    /** What a request without the attribute gets: 'exclude' (default, production) or 'include' (the rule holds). */
    missing: z.enum(['exclude', 'include']).optional(),
  })
  .strict()
  .refine((r) => (r.in === undefined) !== (r.notIn === undefined), { message: 'exactly one of in, notIn' });
export type CohortRule = z.infer<typeof CohortRuleSchema>;

/**
 * The gateway's route table for one model: a superset of the workflow's RouteState (same version,
 * production and canary fields), plus shadow, canary cohort rules, the decision threshold and the
 * versions to keep loaded. Model values are versions of the model named in the URL.
 */
export const GatewayRouteTableSchema = z
  .object({
    version: z.number().int().min(0),
    production: version,
    canary: z
      .object({
        model: version,
        percent: z.number().min(0).max(100),
        cohort: z.array(CohortRuleSchema).max(16).optional(),
        /** Salts the patient's bucket per release (policy canary.saltPerRelease), besides the model's name. */
        salt: z.string().min(1).max(320).optional(),
        /** A request without `parameters.patient_id` is refused (400) rather than assigned by its case id. */
        requirePatientId: z.boolean().optional(),
      })
      .strict()
      .nullable(),
    /** Mirror (a share of) production requests to this version; its answers are only recorded. */
    shadow: z
      .object({ model: version, percent: z.number().min(0).max(100).default(100) })
      .strict()
      .nullable()
      .optional(),
    /** Decision = score ≥ threshold; omitted: responses carry scores only. */
    threshold: z.number().min(0).max(1).optional(),
    /** Versions that stay loaded though no route uses them (the last validated model until monitoring ends). */
    hot: z.array(version).max(16).optional(),
    /** Which release change this table is (`<releaseId>#<release-local version>`): a retried write is a no-op. */
    revision: z.string().min(1).max(320).optional(),
  })
  .strict();
export type GatewayRouteTable = z.infer<typeof GatewayRouteTableSchema>;

/** The workflow's RouteState is already a valid table (no cohort; a shadow only during SHADOW). */
export function fromRouteState(r: RouteState): GatewayRouteTable {
  return GatewayRouteTableSchema.parse(r);
}

/** Every version a table needs loaded. */
export function versionsOf(t: GatewayRouteTable): string[] {
  return [
    ...new Set(
      [t.production, t.canary?.model, t.shadow?.model, ...(t.hot ?? [])].filter((v): v is string => v !== undefined),
    ),
  ];
}

/**
 * Position of a case in [0, 100): the first 32 bits of SHA-256(salt + case id). Used for the shadow's share
 * (a mirror is per request); the canary arm is per patient (`patientBucket`).
 */
export function caseBucket(caseId: string, salt = ''): number {
  return (
    (createHash('sha256')
      .update(salt + caseId)
      .digest()
      .readUInt32BE(0) /
      2 ** 32) *
    100
  );
}

export type Parameters = Record<string, unknown>;

const cohortValue = (v: string): string => v.normalize('NFKC').trim().toLowerCase();

/** Whether a request belongs to the cohort: every rule holds; a missing attribute fails closed (see CohortRule). */
export function cohortMatches(rules: readonly CohortRule[] | undefined, params: Parameters): boolean {
  if (!rules) return true;
  for (const r of rules) {
    const raw = params[r.attribute];
    const v = raw === undefined || raw === null ? '' : cohortValue(String(raw));
    if (v === '') {
      if ((r.missing ?? 'exclude') === 'exclude') return false;
      continue;
    }
    if (r.in && !r.in.some((x) => cohortValue(x) === v)) return false;
    if (r.notIn && r.notIn.some((x) => cohortValue(x) === v)) return false;
  }
  return true;
}

/**
 * The key a request is assigned by: `parameters.patient_id` (normalised, placeholders refused), else its case id
 * unless the table requires a patient id. A bad key is a 400 naming why.
 */
export function routingKey(table: GatewayRouteTable, caseId: string, params: Parameters): string {
  const p = params.patient_id;
  try {
    if (p !== undefined && p !== null) return normalisePatientKey(String(p));
    if (table.canary?.requirePatientId) throw new AssignmentKeyError('the route needs parameters.patient_id');
    return normalisePatientKey(caseId);
  } catch (e) {
    if (e instanceof AssignmentKeyError) throw new OipRequestError(`routing: ${e.message}`);
    throw e;
  }
}

export interface Assignment {
  route: 'production' | 'canary';
  modelVersion: string;
  /** Version to mirror this request to, if any. */
  shadow: string | null;
}

/**
 * Canary when the request matches every cohort rule and its patient's bucket (salted with the model, and the
 * release when the table carries a salt) is below the percentage: a patient stays on one arm while the table stays
 * the same, stays on the canary as its percentage grows, and two models draw independent canary sets. Shadow uses
 * an independent per-case bucket for its share. Throws OipRequestError (400) for a blank or placeholder id.
 */
export function assign(table: GatewayRouteTable, caseId: string, params: Parameters, model: string): Assignment {
  let route: Assignment['route'] = 'production';
  let modelVersion = table.production;
  const c = table.canary;
  if (c && c.percent > 0) {
    const key = routingKey(table, caseId, params);
    if (cohortMatches(c.cohort, params) && inCanary(key, assignmentSalt(model, c.salt), c.percent)) {
      route = 'canary';
      modelVersion = c.model;
    }
  }
  const s = table.shadow;
  const shadow =
    s && s.model !== modelVersion && (s.percent >= 100 || caseBucket(caseId, 'shadow:') < s.percent) ? s.model : null;
  return { route, modelVersion, shadow };
}
