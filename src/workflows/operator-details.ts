/**
 * What Temporal's Web UI shows for a release (the workflow's "current details", Markdown): stage, outcome and
 * what the release waits for, so an operator reads it without decoding search attributes. Pure; setting the
 * details is not a command, so it adds nothing to history and old histories replay unchanged.
 */
import type { ReleaseState } from './release-state';

/** Markdown for the Web UI's "Current details" of a release in its present state. */
export function operatorDetails(state: ReleaseState, outcome?: { outcome: string; reason: string }): string {
  const current = state.history[state.history.length - 1];
  const step = current && current.step !== null ? ` (step ${current.step + 1})` : '';
  const lines = [`**Vigil stage:** ${state.stage}${step}`];
  if (outcome) lines.push(`**Outcome:** ${outcome.outcome} — ${outcome.reason}`);
  else if (state.stage === 'AWAITING_APPROVAL')
    lines.push(`**Waiting for sign-off by:** ${state.pendingRoles().join(', ') || 'nobody (settling)'}`);
  const decided = state.history.filter((h) => h.decision);
  const last = decided[decided.length - 1];
  if (last?.decision) lines.push(`**Last decision:** ${last.stage} ${last.decision.verdict}`);
  if (state.dossier) lines.push(`**Dossier:** sha256 \`${state.dossier.sha256}\``);
  return lines.join('\n\n');
}
