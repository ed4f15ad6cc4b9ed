import type {
  AcceptanceReport,
  CriterionReport,
  MetricValue,
  ModelSliceMetrics,
  Outcome,
  SliceReport,
} from '../evaluation';
import type { ModelCurves } from './curves';
import { escapeXml as esc, formatNumber, renderLinePlot } from './svg';

export interface EvaluationReportHtmlInput {
  report: AcceptanceReport;
  curves: { candidate: ModelCurves; incumbent: ModelCurves };
  title: string;
  dataset: { name: string; sha256: string; rows: number };
  candidate: { version: string; sha256: string };
  incumbent: { version: string; sha256: string };
  policy: { id: string; version: string | number; sha256: string };
}

/** Metrics shown per slice, in order. */
const SLICE_METRICS: {
  key: keyof Omit<ModelSliceMetrics, 'threshold' | 'reliability'>;
  label: string;
  criterionMetric: string;
}[] = [
  { key: 'auc', label: 'AUC', criterionMetric: 'auc' },
  { key: 'averagePrecision', label: 'Average precision', criterionMetric: 'averagePrecision' },
  { key: 'sensitivity', label: 'Sensitivity', criterionMetric: 'sensitivity' },
  { key: 'specificity', label: 'Specificity', criterionMetric: 'specificity' },
  { key: 'ppv', label: 'PPV', criterionMetric: 'ppv' },
  { key: 'npv', label: 'NPV', criterionMetric: 'npv' },
  { key: 'brier', label: 'Brier score', criterionMetric: 'brier' },
  { key: 'ece', label: 'ECE', criterionMetric: 'ece' },
  { key: 'calibrationSlope', label: 'Calibration slope', criterionMetric: 'calibrationSlope' },
  { key: 'calibrationIntercept', label: 'Calibration intercept', criterionMetric: 'calibrationIntercept' },
];

const STATUS_TEXT: Record<Outcome, string> = { pass: '✓ pass', fail: '✗ fail', insufficient: '? insufficient data' };
const KIND_TEXT: Record<CriterionReport['kind'], string> = {
  'metric-threshold': 'metric threshold',
  'non-inferiority': 'non-inferiority',
  'max-drop': 'maximum drop vs incumbent',
};

const CLS = 'vigil-eval-report';
const STYLE = [
  `.${CLS}{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;font-size:14px;line-height:1.4;color:#111;max-width:1200px}`,
  `.${CLS} h2{font-size:1.4em;margin:.2em 0}`,
  `.${CLS} h3{font-size:1.1em;margin:1.2em 0 .4em}`,
  `.${CLS} dl{display:grid;grid-template-columns:max-content auto;gap:.15em 1em;margin:.5em 0}`,
  `.${CLS} dt{font-weight:600}`,
  `.${CLS} dd{margin:0}`,
  `.${CLS} code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em;word-break:break-all}`,
  `.${CLS} table{border-collapse:collapse;margin:.4em 0;font-size:.92em}`,
  `.${CLS} th,.${CLS} td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}`,
  `.${CLS} th{background:#f2f2f2}`,
  `.${CLS} td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}`,
  `.${CLS} .status{font-weight:700;white-space:nowrap}`,
  `.${CLS} .status-pass{color:#0a6b2d;background:#e6f4ea}`,
  `.${CLS} .status-fail{color:#a4141c;background:#fce8e8}`,
  `.${CLS} .status-insufficient{color:#7a4d00;background:#fff4db}`,
  `.${CLS} .verdict{display:inline-block;padding:.2em .6em;border-radius:3px}`,
  `.${CLS} tr.slice-fail>th,.${CLS} tr.slice-fail>td{background:#fdf0f0}`,
  `.${CLS} tr.slice-insufficient>th,.${CLS} tr.slice-insufficient>td{background:#fffaf0}`,
  `.${CLS} td.cell-fail{outline:2px solid #a4141c;outline-offset:-2px}`,
  `.${CLS} .flag{display:block;font-size:.85em;font-weight:700}`,
  `.${CLS} .flag-fail{color:#a4141c}`,
  `.${CLS} .flag-insufficient{color:#7a4d00}`,
  `.${CLS} .muted{color:#555}`,
  `.${CLS} .plots{display:flex;flex-wrap:wrap;gap:1em}`,
  `.${CLS} figure{margin:0}`,
  `.${CLS} figcaption{font-size:.85em;color:#444;max-width:360px}`,
  `.${CLS} details summary{cursor:pointer}`,
  `.${CLS} ul{margin:.2em 0;padding-left:1.2em}`,
].join('\n');

/** Three fixed decimals (tables line up), never "-0.000". */
const fmt3 = (v: number) => {
  if (!Number.isFinite(v)) return String(v);
  const s = v.toFixed(3);
  return s === '-0.000' ? '0.000' : s;
};
const pct = (level: number) => `${formatNumber(level * 100, 2)}%`;

function status(s: Outcome): string {
  return `<span class="status status-${s}">${esc(STATUS_TEXT[s])}</span>`;
}

function metricCell(v: MetricValue): string {
  if (v.estimate === null)
    return `<td class="num muted" title="${esc(v.reason ?? 'undefined')}">undefined<br><span class="muted">${esc(v.reason ?? '')}</span></td>`;
  const interval = v.interval
    ? ` <span class="muted">[${fmt3(v.interval.lower)}, ${fmt3(v.interval.upper)}]</span>`
    : '';
  const counts = v.x !== undefined && v.n !== undefined ? ` <span class="muted">(${v.x}/${v.n})</span>` : '';
  return `<td class="num" title="${esc(v.method)}">${fmt3(v.estimate)}${interval}${counts}</td>`;
}

function differenceCell(slice: SliceReport, key: (typeof SLICE_METRICS)[number]['key']): string {
  if (key === 'auc' && slice.paired) {
    const p = slice.paired;
    return `<td class="num" title="paired DeLong, ${esc(pct(p.interval.level))} interval, two-sided p=${esc(p.pValue.toPrecision(3))}">${signed(p.difference)} <span class="muted">[${fmt3(p.interval.lower)}, ${fmt3(p.interval.upper)}]</span></td>`;
  }
  const c = slice.candidate[key].estimate;
  const i = slice.incumbent[key].estimate;
  if (c === null || i === null) return '<td class="num muted">—</td>';
  return `<td class="num">${signed(c - i)}</td>`;
}

function signed(v: number): string {
  const s = fmt3(v);
  return s.startsWith('-') ? `−${s.slice(1)}` : s === '0.000' ? s : `+${s}`;
}

function header(input: EvaluationReportHtmlInput): string {
  const { report } = input;
  const verdict = report.accepted
    ? '<span class="status status-pass">✓ ACCEPTED</span>'
    : '<span class="status status-fail">✗ REJECTED</span>';
  const t = report.thresholds;
  const threshold = (x: typeof t.candidate) =>
    `${formatNumber(x.threshold)} <span class="muted">(${esc(x.rule)}${x.tuningN !== undefined ? `; tuning n=${x.tuningN}` : ''}${x.tuningSensitivity !== undefined ? `, sensitivity ${fmt3(x.tuningSensitivity)}` : ''}${x.tuningSpecificity !== undefined ? `, specificity ${fmt3(x.tuningSpecificity)}` : ''})</span>`;
  return [
    '<header>',
    `<h2>${esc(input.title)}</h2>`,
    `<p>Verdict: <span class="verdict">${verdict}</span> — ${report.criteria.filter((c) => c.passed).length} of ${report.criteria.length} criteria pass.</p>`,
    '<dl>',
    `<dt>Dataset</dt><dd>${esc(input.dataset.name)} — ${input.dataset.rows} rows; sha256 <code>${esc(input.dataset.sha256)}</code></dd>`,
    `<dt>Candidate model</dt><dd>${esc(input.candidate.version)}; sha256 <code>${esc(input.candidate.sha256)}</code></dd>`,
    `<dt>Incumbent model</dt><dd>${esc(input.incumbent.version)}; sha256 <code>${esc(input.incumbent.sha256)}</code></dd>`,
    `<dt>Acceptance policy</dt><dd>${esc(input.policy.id)} version ${esc(String(input.policy.version))}; sha256 <code>${esc(input.policy.sha256)}</code></dd>`,
    `<dt>Evaluated rows</dt><dd>${report.n}</dd>`,
    `<dt>Intervals</dt><dd>${esc(pct(report.confidenceLevel))} two-sided; proportions by ${esc(report.proportionInterval)}</dd>`,
    `<dt>Candidate threshold</dt><dd>${threshold(t.candidate)}</dd>`,
    `<dt>Incumbent threshold</dt><dd>${threshold(t.incumbent)}</dd>`,
    '</dl>',
    '</header>',
  ].join('\n');
}

function criteriaTable(report: AcceptanceReport): string {
  const rows = report.criteria.map((c) => {
    const counts = { pass: 0, fail: 0, insufficient: 0 };
    for (const s of c.slices) counts[s.status]++;
    const only = c.slices.length === 1 ? c.slices[0]! : null;
    const details = only
      ? only.reason === c.reason
        ? ''
        : `<div class="muted">${esc(only.reason)}</div>`
      : c.slices.length > 1
        ? `<details><summary>${c.slices.length} slices: ${counts.pass} pass, ${counts.fail} fail, ${counts.insufficient} insufficient</summary><ul>${c.slices
            .map((s) => `<li>${status(s.status)} ${esc(s.reason)}</li>`)
            .join('')}</ul></details>`
        : '';
    return `<tr class="criterion-${c.status}"><th scope="row">${esc(c.id)}</th><td>${esc(KIND_TEXT[c.kind])}</td><td>${esc(c.metric)}</td><td class="status-${c.status}">${status(c.status)}</td><td>${esc(c.reason)}${details}</td></tr>`;
  });
  return [
    '<h3>Acceptance criteria</h3>',
    '<table>',
    '<thead><tr><th scope="col">Criterion</th><th scope="col">Kind</th><th scope="col">Metric</th><th scope="col">Status</th><th scope="col">Reason</th></tr></thead>',
    `<tbody>\n${rows.join('\n')}\n</tbody>`,
    '</table>',
  ].join('\n');
}

function plots(curves: EvaluationReportHtmlInput['curves'], input: EvaluationReportHtmlInput): string {
  const cand = `Candidate ${input.candidate.version}`;
  const inc = `Incumbent ${input.incumbent.version}`;
  const { candidate: c, incumbent: i } = curves;
  const auc = (m: SliceReport['candidate']) => (m.auc.estimate === null ? 'undefined' : fmt3(m.auc.estimate));
  const overall = input.report.slices.find((s) => s.slice === 'overall');
  const figures = [
    {
      svg: renderLinePlot({
        title: 'ROC curve',
        xLabel: 'False-positive rate (1 − specificity)',
        yLabel: 'True-positive rate (sensitivity)',
        diagonal: 'Chance',
        series: [
          { label: cand, x: c.roc.fpr, y: c.roc.tpr, style: 'solid' },
          { label: inc, x: i.roc.fpr, y: i.roc.tpr, style: 'dashed' },
        ],
      }),
      caption: overall
        ? `Overall AUC: candidate ${auc(overall.candidate)}, incumbent ${auc(overall.incumbent)}.`
        : 'ROC curves of both models.',
    },
    {
      svg: renderLinePlot({
        title: 'Precision-recall curve',
        xLabel: 'Recall (sensitivity)',
        yLabel: 'Precision (PPV)',
        series: [
          { label: cand, x: c.pr.recall, y: c.pr.precision, style: 'solid' },
          { label: inc, x: i.pr.recall, y: i.pr.precision, style: 'dashed' },
        ],
      }),
      caption: `Prevalence ${c.pr.positives + c.pr.negatives > 0 ? fmt3(c.pr.positives / (c.pr.positives + c.pr.negatives)) : 'undefined'} (the precision of random alerting).`,
    },
    {
      svg: renderLinePlot({
        title: 'Reliability (calibration)',
        xLabel: 'Mean predicted probability',
        yLabel: 'Observed positive fraction',
        diagonal: 'Perfect calibration',
        series: [
          {
            label: cand,
            x: c.reliability.map((p) => p.meanPredicted),
            y: c.reliability.map((p) => p.observed),
            style: 'solid',
            markers: true,
          },
          {
            label: inc,
            x: i.reliability.map((p) => p.meanPredicted),
            y: i.reliability.map((p) => p.observed),
            style: 'dashed',
            markers: true,
          },
        ],
      }),
      caption: 'Equal-width bins; empty bins omitted.',
    },
  ];
  return [
    '<h3>Curves (overall)</h3>',
    '<div class="plots">',
    ...figures.map((f) => `<figure>${f.svg}<figcaption>${esc(f.caption)}</figcaption></figure>`),
    '</div>',
  ].join('\n');
}

function sliceTable(report: AcceptanceReport): string {
  // Which criteria fail / lack data on each slice, and on which metric.
  const flags = new Map<string, { status: 'fail' | 'insufficient'; criterion: string; metric: string }[]>();
  for (const c of report.criteria) {
    for (const s of c.slices) {
      if (s.status === 'pass') continue;
      const list = flags.get(s.slice) ?? [];
      list.push({ status: s.status, criterion: c.id, metric: c.metric });
      flags.set(s.slice, list);
    }
  }
  const body: string[] = [];
  for (const s of report.slices) {
    const f = flags.get(s.slice) ?? [];
    const failing = f.filter((x) => x.status === 'fail');
    const short = f.filter((x) => x.status === 'insufficient');
    const cls = failing.length > 0 ? 'slice-fail' : short.length > 0 ? 'slice-insufficient' : '';
    const marks =
      (failing.length > 0
        ? `<span class="flag flag-fail">✗ fails ${esc(unique(failing.map((x) => x.criterion)).join(', '))}</span>`
        : '') +
      (short.length > 0
        ? `<span class="flag flag-insufficient">? insufficient data for ${esc(unique(short.map((x) => x.criterion)).join(', '))}</span>`
        : '');
    SLICE_METRICS.forEach((m, k) => {
      const failedHere = failing.filter((x) => x.metric === m.criterionMetric).map((x) => x.criterion);
      const metricLabel =
        failedHere.length > 0
          ? `${esc(m.label)}<span class="flag flag-fail">✗ ${esc(unique(failedHere).join(', '))}</span>`
          : esc(m.label);
      const cells = [
        k === 0
          ? `<th scope="rowgroup" rowspan="${SLICE_METRICS.length}">${esc(s.slice)}${marks}</th><td class="num" rowspan="${SLICE_METRICS.length}">${s.n}</td><td class="num" rowspan="${SLICE_METRICS.length}">${s.positives}</td>`
          : '',
        `<td${failedHere.length > 0 ? ' class="cell-fail"' : ''}>${metricLabel}</td>`,
        metricCell(s.candidate[m.key]),
        metricCell(s.incumbent[m.key]),
        differenceCell(s, m.key),
      ];
      body.push(`<tr${cls ? ` class="${cls}"` : ''}>${cells.join('')}</tr>`);
    });
  }
  return [
    '<h3>Metrics by slice</h3>',
    `<p class="muted">Estimates with ${esc(pct(report.confidenceLevel))} intervals in brackets; rates show counts (x/n). Difference is candidate − incumbent (AUC: paired DeLong with interval). Slices failing a criterion are marked ✗ and shaded; insufficient-data slices are marked ?.</p>`,
    '<table>',
    '<thead><tr><th scope="col">Slice</th><th scope="col">n</th><th scope="col">Positives</th><th scope="col">Metric</th><th scope="col">Candidate</th><th scope="col">Incumbent</th><th scope="col">Difference</th></tr></thead>',
    `<tbody>\n${body.join('\n')}\n</tbody>`,
    '</table>',
  ].join('\n');
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/**
 * The offline-evaluation report as an HTML fragment: one `<section>` with its own class-scoped `<style>`, no
 * scripts and no external assets. Deterministic (same input → same bytes): it is stored as content-addressed
 * evidence. Every piece of text from the input is HTML-escaped.
 */
export function renderEvaluationReportHtml(input: EvaluationReportHtmlInput): string {
  return [
    `<section class="${CLS}" aria-label="${esc(input.title)}">`,
    `<style>\n${STYLE}\n</style>`,
    header(input),
    criteriaTable(input.report),
    plots(input.curves, input),
    sliceTable(input.report),
    '</section>',
    '',
  ].join('\n');
}
