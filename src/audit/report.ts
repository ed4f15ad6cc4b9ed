import type { AuditCheck, AuditReport } from './audit';
import type { Finding } from './chain';
import { describeMeasuredBy } from '../judging/measured-by';

const esc = (s: unknown): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const badge = (ok: boolean): string => `<span class="${ok ? 'pass' : 'fail'}">${ok ? 'PASS' : 'FAIL'}</span>`;

function findingText(f: Finding): string {
  const parts = [f.key ? `${f.key}: ${f.problem}` : f.problem];
  if (f.expected !== undefined) parts.push(`expected ${f.expected}`);
  if (f.actual !== undefined) parts.push(`actual ${f.actual}`);
  return parts.join(' — ');
}

/** Plain-text lines for the terminal: each live decision with how it was measured. */
export function formatMeasured(decisions: AuditReport['decisions']): string[] {
  return decisions
    .filter((d) => d.measured)
    .map(
      (d) =>
        `measured: ${d.step === null ? d.stage : `${d.stage}[${d.step}]`} ${d.recomputed.verdict}: ${describeMeasuredBy(d.measured!)}`,
    );
}

/** Plain-text lines for the terminal: one per check, findings indented below. */
export function formatChecks(checks: AuditCheck[]): string {
  return checks
    .flatMap((c) => [
      `${c.passed ? 'PASS' : 'FAIL'}  ${c.title}: ${c.summary}`,
      ...c.findings.map((f) => `      - ${findingText(f)}`),
    ])
    .join('\n');
}

function table(head: string[], rows: string[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** A self-contained HTML audit report: inline CSS, no scripts, no external assets. */
export function renderAuditHtml(r: AuditReport): string {
  const checks = table(
    ['Check', 'Result', 'Summary', 'Findings'],
    r.checks.map((c) => [
      esc(c.title),
      badge(c.passed),
      esc(c.summary),
      c.findings.length ? `<ul>${c.findings.map((f) => `<li>${esc(findingText(f))}</li>`).join('')}</ul>` : '—',
    ]),
  );
  const histories = table(
    ['Workflow', 'Run', 'Source', 'Events', 'Archived', 'Recorded build', 'Replay (recorded)', 'Replay (current)'],
    r.histories.map((h) => [
      `${esc(h.workflowType)}<br><code>${esc(h.workflowId)}</code>`,
      `<code>${esc(h.runId)}</code>`,
      esc(h.source),
      esc(h.events),
      h.archive
        ? `${esc(h.archive.events)} events at ${esc(h.archive.reason)}<br><code>${esc(h.archive.historyKey)}</code>`
        : '—',
      `<code>${esc(h.recordedBuildId ?? '—')}</code>`,
      h.replayRecorded
        ? badge(h.replayRecorded.ok) + (h.replayRecorded.error ? `<br>${esc(h.replayRecorded.error)}` : '')
        : '—',
      h.replayCurrent
        ? badge(h.replayCurrent.ok) + (h.replayCurrent.error ? `<br>${esc(h.replayCurrent.error)}` : '')
        : '—',
    ]),
  );
  const decisions = table(
    ['Stage', 'Recomputed', 'Recorded (chain entry)', 'Match', 'Measured', 'From'],
    r.decisions.map((d) => [
      esc(d.step === null ? d.stage : `${d.stage}[${d.step}]`),
      `<b>${esc(d.recomputed.verdict)}</b>: ${esc(d.recomputed.reasons.join('; '))}`,
      d.recorded
        ? `<b>${esc(d.recorded.verdict)}</b>: ${esc(d.recorded.reasons.join('; '))} (#${esc(d.chainSeq)})`
        : '—',
      badge(d.match),
      d.measured ? esc(describeMeasuredBy(d.measured)) : '—',
      esc(d.event),
    ]),
  );
  const signatures = table(
    [
      'Printed name',
      'Signed at',
      'Meaning',
      'Role',
      'Decision',
      'Reason',
      'Signer id',
      'Authenticated',
      'Bound to dossier',
    ],
    r.signatures.map((s) => [
      esc(s.printedName),
      esc(s.at),
      esc(s.meaning),
      esc(s.role),
      esc(s.decision),
      esc(s.reason),
      esc(s.signer),
      s.authentication
        ? esc(
            `${s.authentication.issuer} ${s.authentication.subject} at ${s.authentication.authTime}${s.authentication.amr ? ` (${s.authentication.amr.join(', ')})` : ''}`,
          )
        : 'password',
      `${badge(s.boundToDossier)} <code>${esc(s.dossierSha256.slice(0, 16))}…</code>`,
    ]),
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Vigil audit ${esc(r.releaseId)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0;width:100%}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}code{font-size:12px;word-break:break-all}.pass{color:#fff;background:#2a7d2e;padding:1px 6px;border-radius:3px}
.fail{color:#fff;background:#b3261e;padding:1px 6px;border-radius:3px}h1 .pass,h1 .fail{font-size:60%;vertical-align:middle}
</style></head><body>
<h1>Audit of release <code>${esc(r.releaseId)}</code> ${badge(r.passed)}</h1>
<p>Audited at ${esc(r.auditedAt)}. Evidence chain: ${esc(r.chain.entries)} entries, head ${r.chain.head ? `#${esc(r.chain.head.seq)} <code>${esc(r.chain.head.digest)}</code>` : '—'}; ${esc(r.chain.artifactsChecked)} artifacts re-hashed. Pinned policy sha256 <code>${esc(r.policySha256 ?? '—')}</code>. Current build <code>${esc(r.builds.current)}</code>. Replay took ${esc(r.timings.replayMs)} ms.</p>
<h2>Checks</h2>${checks}
<h2>Workflow histories</h2>${histories}
<h2>Gate decisions</h2>${decisions}
<h2>Signatures (21 CFR 11.50 manifestation)</h2>${signatures}
</body></html>
`;
}
