import type { Decision, PendingActivity, ReleaseStatus, SignatureRecord } from '../domain';
import { describeMeasuredBy } from '../judging/measured-by';
import { formatLocalAndUtc } from '../report/time';
import type { ReleaseSummary } from './api-client';

/** Plain-text table: left-aligned columns, two spaces apart. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function formatList(releases: ReleaseSummary[]): string {
  if (releases.length === 0) return 'no releases';
  return table(
    ['RELEASE', 'MODEL', 'STAGE', 'OUTCOME', 'STATUS', 'STARTED'],
    releases.map((r) => [r.releaseId, r.model ?? '-', r.stage ?? '-', r.outcome ?? '-', r.status, r.startTime]),
  );
}

export function stageLabel(r: { stage: string; step: number | null }): string {
  return r.step === null ? r.stage : `${r.stage}[${r.step}]`;
}

export function formatDecision(d: (Pick<Decision, 'reasons'> & { verdict: string }) | null): string {
  if (!d) return '';
  const reasons = d.reasons.join('; ');
  return reasons ? `${d.verdict}: ${reasons}` : d.verdict;
}

/**
 * The signature manifestation (21 CFR 11.50): printed name, role, meaning, the time of signing in the signer's
 * zone and UTC, and the reason.
 */
export function formatManifestation(
  g: Pick<SignatureRecord, 'printedName' | 'role' | 'at' | 'meaning' | 'decision' | 'signer'> &
    Partial<Pick<SignatureRecord, 'reason' | 'timeZone'>>,
): string {
  const reason = g.reason ? `; reason: ${g.reason}` : '';
  return `${g.decision === 'reject' ? 'rejected' : 'signed'}: ${g.printedName} (${g.role}) at ${formatLocalAndUtc(g.at, g.timeZone)}: "${g.meaning}"${reason} [signer ${g.signer}]`;
}

export function formatStatus(s: ReleaseStatus): string {
  const kv: Array<[string, string]> = [
    ['release', s.releaseId],
    ['model', `${s.modelName} ${s.candidateVersion} (incumbent ${s.incumbentVersion})`],
    ['submitted by', s.submittedBy],
    ['stage', s.stage],
    ['outcome', s.outcome ? `${s.outcome}${s.reason ? ` - ${s.reason}` : ''}` : '-'],
    ['policy', `${s.policy.id} ${s.policy.version}${s.policy.sha256 ? ` (sha256 ${s.policy.sha256})` : ''}`],
    ['dossier', s.dossier ? `sha256 ${s.dossier.sha256} (${s.dossier.key})` : '- (not built yet)'],
    ['roles', `required ${s.requiredRoles.join(', ') || '-'}; pending ${s.pendingRoles.join(', ') || '-'}`],
  ];
  if (s.approvalDeadline) kv.push(['approve by', s.approvalDeadline]);
  // From Temporal's describe: a run that ended without an outcome, an activity being retried.
  if (s.execution && s.execution.status !== 'RUNNING' && !s.outcome)
    kv.push(['run', `${s.execution.status} without an outcome (see \`temporal workflow show -w ${s.releaseId}\`)`]);
  for (const a of s.execution?.pendingActivities ?? []) kv.push(['activity', pendingActivityLine(a)]);
  if (s.routes) {
    const canary = s.routes.canary ? `; canary ${s.routes.canary.model} at ${s.routes.canary.percent}%` : '';
    const shadow = s.routes.shadow ? `; shadow ${s.routes.shadow.model} mirroring ${s.routes.shadow.percent}%` : '';
    kv.push(['routes', `production ${s.routes.production}${canary}${shadow} (v${s.routes.version})`]);
  }
  if (s.canaryHold) {
    const h = s.canaryHold;
    const why =
      h.kind === 'pause'
        ? `paused after step ${h.step + 1}`
        : `escalated at step ${h.step + 1}: ${(h.failure ?? []).join('; ')}`;
    kv.push([
      'canary held',
      `${why}; waiting for \`vigil canary resume|rollback\`${h.deadline ? ` until ${h.deadline} (then rollback)` : ''}`,
    ]);
  }
  for (const d of s.canaryDecisions ?? [])
    kv.push(['canary decision', `${d.decision} by ${d.printedName} (${d.role}) at ${d.at}: ${d.reason}`]);
  if (s.chainHead) kv.push(['chain head', `#${s.chainHead.seq} ${s.chainHead.digest}`]);
  const width = Math.max(...kv.map(([k]) => k.length));
  const lines = kv.map(([k, v]) => `${k.padEnd(width)}  ${v}`);

  if (s.dossier && s.stage === 'AWAITING_APPROVAL') {
    lines.push(
      '',
      `sign with: vigil approve ${s.releaseId} --user <your id> --role <${s.pendingRoles.join('|')}> --digest ${s.dossier.sha256} --meaning <text> --reason <text>`,
    );
  }
  if (s.signatures.length > 0) {
    // Once each: the manifestation with its reason (a table beside it would repeat it without the reason).
    lines.push(
      '',
      'signatures:',
      ...s.signatures.map(
        (g) =>
          `  ${formatManifestation(g)}${g.withdrawal ? ` - WITHDRAWN at ${formatLocalAndUtc(g.withdrawal.at, g.timeZone)}: ${g.withdrawal.reason}` : ''}`,
      ),
    );
  }
  if (s.history.length > 0) {
    lines.push(
      '',
      table(
        ['STAGE', 'STARTED', 'ENDED', 'DECISION'],
        s.history.map((r) => [stageLabel(r), r.startedAt, r.endedAt ?? '-', formatDecision(r.decision) || '-']),
      ),
    );
    // How each live decision was measured, as fields: source, window completeness, mirror coverage, attempts.
    const measured = s.history.filter((r) => r.measured);
    if (measured.length > 0)
      lines.push('', 'measured:', ...measured.map((r) => `  ${stageLabel(r)}: ${describeMeasuredBy(r.measured!)}`));
  }
  return lines.join('\n');
}

/** `observeShadow attempt 3; last error VigilX: message` — what a stage is doing while it retries. */
export function pendingActivityLine(a: PendingActivity): string {
  const err = a.lastFailure ? `; last error ${a.lastFailureType ? `${a.lastFailureType}: ` : ''}${a.lastFailure}` : '';
  return `${a.activity} attempt ${a.attempt}${err}`;
}
