import { z } from 'zod';

/**
 * A simulated world for live stages, drills and `vigil simulate`: what goes wrong, where, and how fast outcomes
 * arrive. Data, not code: it travels in a drill's workflow input and is recorded with its evidence.
 */
export const TrafficScenarioSchema = z
  .object({
    /** Names the scenario in evidence and reports. */
    name: z.string().min(1).max(80).default('baseline'),
    /**
     * A fault in the candidate's feature pipeline at one site (e.g. a lab value mapped in the wrong unit):
     * the candidate sees `value * scale + offset` for that feature; the production model, with its own pinned
     * pipeline, sees the true value. From `fromInterval` (0-based canary/monitoring interval) on.
     */
    regression: z
      .object({
        site: z.string().min(1).max(64),
        feature: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/),
        scale: z.number().min(-100).max(100).default(0),
        offset: z.number().min(-1000).max(1000).default(0),
        fromInterval: z.number().int().min(0).max(100_000).default(0),
        /** Whether the shadow period (before interval 0) already sees the fault. */
        inShadow: z.boolean().default(false),
      })
      .optional(),
    /**
     * A population shift (real data drift, not a pipeline bug): `offset` is added to the feature as BOTH pipelines
     * see it — candidate and production alike — at one site or, without `site`, everywhere; outcomes stay those of
     * the unshifted case (the measured input moved). From `fromInterval` on, in every live interval (`phase: live`)
     * or only in post-release monitoring windows (`phase: monitoring`); never in the shadow period.
     */
    shift: z
      .object({
        site: z.string().min(1).max(64).optional(),
        feature: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/),
        offset: z.number().min(-1000).max(1000),
        fromInterval: z.number().int().min(0).max(100_000).default(0),
        phase: z.enum(['live', 'monitoring']).default('live'),
      })
      .strict()
      .optional(),
    /**
     * Outcomes arrive late (clinician review, downstream outcome): the share of cases whose ground truth has
     * arrived when an interval is analysed. Unlabelled cases count for alerts, never for sensitivity.
     */
    labelledShare: z.number().gt(0).max(1).default(1),
  })
  .strict();
export type TrafficScenario = z.infer<typeof TrafficScenarioSchema>;
