import { z } from 'zod';

/** Every state a release can be in. The last five are terminal. */
export const STAGES = [
  'SNAPSHOT',
  'OFFLINE_EVAL',
  'SHADOW',
  'AWAITING_APPROVAL',
  'CANARY',
  'MONITORING',
  'RELEASED',
  'REJECTED',
  'ROLLED_BACK',
  'EXPIRED',
  'SUPERSEDED',
] as const;
export const StageSchema = z.enum(STAGES);
export type Stage = z.infer<typeof StageSchema>;

export const OUTCOMES = ['RELEASED', 'REJECTED', 'ROLLED_BACK', 'EXPIRED', 'SUPERSEDED'] as const;
export const OutcomeSchema = z.enum(OUTCOMES);
export type Outcome = z.infer<typeof OutcomeSchema>;

export function isTerminal(stage: Stage): stage is Outcome {
  return (OUTCOMES as readonly string[]).includes(stage);
}

/** Allowed transitions: the state machine in one table, checked on every move. */
export const TRANSITIONS: Readonly<Record<Stage, readonly Stage[]>> = {
  SNAPSHOT: ['OFFLINE_EVAL', 'REJECTED', 'SUPERSEDED'],
  OFFLINE_EVAL: ['SHADOW', 'REJECTED', 'SUPERSEDED'],
  SHADOW: ['AWAITING_APPROVAL', 'REJECTED', 'SUPERSEDED'],
  AWAITING_APPROVAL: ['CANARY', 'REJECTED', 'EXPIRED', 'SUPERSEDED'],
  CANARY: ['CANARY', 'MONITORING', 'ROLLED_BACK'],
  MONITORING: ['RELEASED', 'ROLLED_BACK'],
  RELEASED: [],
  REJECTED: [],
  ROLLED_BACK: [],
  EXPIRED: [],
  SUPERSEDED: [],
};

export function canTransition(from: Stage, to: Stage): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Analysis verdicts, as in Argo Rollouts: inconclusive never passes. */
export const VerdictSchema = z.enum(['pass', 'fail', 'inconclusive']);
export type Verdict = z.infer<typeof VerdictSchema>;

export interface Decision {
  verdict: Verdict;
  reasons: string[];
}
