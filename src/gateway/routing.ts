import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { RouteState } from '../domain';

const version = z.string().min(1).max(64);

/** A canary cohort rule: the request parameter `attribute` must (or must not) be one of `values`. */
export const CohortRuleSchema = z
  .object({
    attribute: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'a request parameter name (lowercase, digits, _)'),
    in: z.array(z.string().max(128)).min(1).max(256).optional(),
    notIn: z.array(z.string().max(128)).min(1).max(256).optional(),
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
 * Position of a case in [0, 100): the first 32 bits of SHA-256(case id). The same function as the
 * simulated canary (`inCanaryArm` in src/activities/live.ts), so a case lands in the same arm in both.
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

export function cohortMatches(rules: readonly CohortRule[] | undefined, params: Parameters): boolean {
  if (!rules) return true;
  for (const r of rules) {
    const raw = params[r.attribute];
    const v = raw === undefined || raw === null ? undefined : String(raw);
    if (r.in && (v === undefined || !r.in.includes(v))) return false;
    if (r.notIn && v !== undefined && r.notIn.includes(v)) return false;
  }
  return true;
}

export interface Assignment {
  route: 'production' | 'canary';
  modelVersion: string;
  /** Version to mirror this request to, if any. */
  shadow: string | null;
}

/**
 * Canary when the case matches every cohort rule and its bucket is below the percentage; a case's
 * bucket never changes, so a patient stays on one arm while the table stays the same (and stays on
 * the canary as its percentage grows). Shadow uses an independent bucket (salted) for its share.
 */
export function assign(table: GatewayRouteTable, caseId: string, params: Parameters): Assignment {
  let route: Assignment['route'] = 'production';
  let modelVersion = table.production;
  const c = table.canary;
  if (c && c.percent > 0 && cohortMatches(c.cohort, params) && caseBucket(caseId) < c.percent) {
    route = 'canary';
    modelVersion = c.model;
  }
  const s = table.shadow;
  const shadow =
    s && s.model !== modelVersion && (s.percent >= 100 || caseBucket(caseId, 'shadow:') < s.percent) ? s.model : null;
  return { route, modelVersion, shadow };
}
