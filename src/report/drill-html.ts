/** The rollback drill report as one self-contained HTML page: verdict, the plot of both arms, every look. */
import type { DrillReport } from '../domain';
import { escapeXml as esc, formatNumber, renderLinePlot } from './svg';

const pct = (x: number | null): string => (x === null ? '—' : `${formatNumber(x * 100, 1)}%`);
const num = (x: number | null): string => (x === null ? '—' : formatNumber(x, 4));

export function renderDrillReportHtml(r: DrillReport): string {
  const n = r.looks.length;
  // Looks on the unit x-axis (first look at 1/n, last at 1): the plot shows how the arms separate over the drill.
  const x = r.looks.map((l) => l.look / Math.max(1, n));
  const withSens = (pick: (l: DrillReport['looks'][number]) => number | null) => {
    const xs: number[] = [];
    const ys: number[] = [];
    r.looks.forEach((l, i) => {
      const v = pick(l);
      if (v !== null) {
        xs.push(x[i]!);
        ys.push(v);
      }
    });
    return { x: xs, y: ys };
  };
  const plot = renderLinePlot({
    title: 'Cumulative sensitivity by look',
    xLabel: `look (1 … ${n}) as a share of the drill`,
    yLabel: 'sensitivity',
    series: [
      {
        label: `canary arm (${r.candidateVersion})`,
        style: 'solid',
        markers: true,
        ...withSens((l) => l.canary.sensitivity),
      },
      {
        label: `control arm (${r.incumbentVersion})`,
        style: 'dashed',
        markers: true,
        ...withSens((l) => l.control.sensitivity),
      },
    ],
    width: 460,
    height: 380,
  });
  const rows = r.looks
    .map(
      (l) =>
        `<tr><td>${l.look}</td><td>${l.step + 1}${l.extension ? ` (+${l.extension})` : ''}</td><td>${formatNumber(l.percent, 1)}%</td>` +
        `<td>${l.canary.truePositives}/${l.canary.positives} = ${pct(l.canary.sensitivity)}</td>` +
        `<td>${l.control.truePositives}/${l.control.positives} = ${pct(l.control.sensitivity)}</td>` +
        `<td>${num(l.drop)} [${num(l.lower)}, ${num(l.upper)}]</td><td class="${esc(l.verdict)}">${esc(l.verdict)}</td></tr>`,
    )
    .join('\n');
  const rb = r.rollback;
  const reg = r.scenario.regression;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Rollback drill ${esc(r.drillId)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;max-width:60rem;color:#1b1b1b}
h1{font-size:1.4rem}.verdict{font-size:1.1rem;padding:.6rem 1rem;border-radius:4px}
.ok{background:#e6f4ea;border:1px solid #2e7d32}.bad{background:#fdecea;border:1px solid #c62828}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}
td.fail{color:#c62828;font-weight:600}td.pass{color:#2e7d32}code{font-size:12px}
</style></head><body>
<h1>Rollback drill: ${esc(r.modelName)} ${esc(r.candidateVersion)} → ${esc(r.incumbentVersion)}</h1>
<p class="verdict ${r.passed ? 'ok' : 'bad'}">${esc(r.summary)}</p>
<table>
<tr><th>Drill</th><td><code>${esc(r.drillId)}</code>${r.fromRelease ? ` (from release <code>${esc(r.fromRelease)}</code>)` : ''}, requested by ${esc(r.requestedBy)}</td></tr>
<tr><th>Route table</th><td><code>${esc(r.routeTable)}</code> (no patient traffic)</td></tr>
<tr><th>Scenario</th><td>${esc(r.scenario.name)}${reg ? `: candidate pipeline fault at ${esc(reg.site)}, ${esc(reg.feature)} → ${formatNumber(reg.scale)}·x + ${formatNumber(reg.offset)} from interval ${reg.fromInterval}` : ': no fault'}; outcomes arrived for ${pct(r.scenario.labelledShare)}</td></tr>
<tr><th>Guardrails</th><td>sequential sensitivity test, α = ${formatNumber(r.guardrails.alpha)}, harm margin ${formatNumber(r.guardrails.harmMargin)}, ≥ ${r.guardrails.minPositives} labelled positives per arm, up to ${r.guardrails.maxExtensions} extensions per step</td></tr>
<tr><th>Detected</th><td>${r.detected ? `yes, at look ${r.detectedAtLook}${r.secondsToDetect !== null ? ` after ${formatNumber(r.secondsToDetect, 1)} s of canary` : ''}` : 'no'}</td></tr>
<tr><th>Routes restored</th><td>${r.routesRestored ? `yes: production ${esc(r.incumbentVersion)}, no canary` : 'NO'}</td></tr>
${rb ? `<tr><th>Rollback</th><td>${esc(rb.cause)}<br>record <code>${esc(rb.record.key)}</code><br>notification ${rb.notification ? `<code>${esc(rb.notification.key)}</code>` : 'NOT delivered'}</td></tr>` : ''}
<tr><th>Window</th><td>${esc(r.startedAt)} — ${esc(r.endedAt)}</td></tr>
</table>
${plot}
<h2>Every look</h2>
<table><thead><tr><th>Look</th><th>Step</th><th>Canary %</th><th>Canary sensitivity (cumulative)</th><th>Control sensitivity (cumulative)</th><th>Drop [confidence sequence]</th><th>Verdict</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}
