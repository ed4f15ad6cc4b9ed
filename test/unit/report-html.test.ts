import assert from 'node:assert/strict';
import { assertSameText } from '../support/same-text';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { jsonSchemaFiles, SCHEMAS_DIR } from '../../infra/export-json-schemas';
import { evaluateAcceptance, validateAcceptancePolicy, type AcceptancePolicyInput } from '../../src/evaluation';
import {
  escapeXml,
  formatNumber,
  modelCurves,
  renderEvaluationReportHtml,
  renderLinePlot,
  type EvaluationReportHtmlInput,
} from '../../src/report';

const MALICIOUS = '<script>alert("x")</script>&';

/** Deterministic rows as in evaluation-acceptance.test.ts; one site is named with markup and is small. */
function dataset(n = 3000) {
  let seed = 99;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
  const labels: number[] = [];
  const candidate: number[] = [];
  const incumbent: number[] = [];
  const site: string[] = [];
  const sex: string[] = [];
  for (let i = 0; i < n; i++) {
    const y = rand() < 0.3 ? 1 : 0;
    labels.push(y);
    candidate.push(Math.min(1, Math.max(0, 0.25 + 0.35 * y + 0.4 * (rand() - 0.5))));
    incumbent.push(Math.min(1, Math.max(0, 0.27 + 0.3 * y + 0.4 * (rand() - 0.5))));
    site.push(i % 50 === 0 ? MALICIOUS : i % 2 === 0 ? 'site-a' : 'site-b');
    sex.push(rand() < 0.5 ? 'F' : 'M');
  }
  return { labels, candidate, incumbent, site, sex };
}

const POLICY: AcceptancePolicyInput = {
  version: 1,
  criteria: [
    {
      id: 'sensitivity-by-site',
      kind: 'metric-threshold',
      metric: 'sensitivity',
      bound: 'lower',
      op: '>=',
      value: 0.9,
      slices: { attributes: ['site'] },
      minN: 100,
    },
    { id: 'auc-non-inferior', kind: 'non-inferiority', margin: 0.01, alpha: 0.025 },
    { id: 'calibration', kind: 'metric-threshold', metric: 'ece', op: '<=', value: 0.2 },
    {
      kind: 'max-drop',
      metric: 'specificity',
      maxDrop: 0.03,
      slices: { attributes: ['site', 'sex'] },
      onInsufficient: 'ignore',
    },
  ],
};

function fixture(): EvaluationReportHtmlInput {
  const data = dataset();
  const report = evaluateAcceptance({
    labels: data.labels,
    candidateScores: data.candidate,
    incumbentScores: data.incumbent,
    attributes: { site: data.site, sex: data.sex },
    thresholdRule: { kind: 'fixed', threshold: 0.5 },
    policy: validateAcceptancePolicy(POLICY),
  });
  return {
    report,
    curves: {
      candidate: modelCurves(data.candidate, data.labels),
      incumbent: modelCurves(data.incumbent, data.labels),
    },
    title: `Offline evaluation of ${MALICIOUS}`,
    dataset: { name: 'holdout "2024" <q1>', sha256: 'a'.repeat(64), rows: data.labels.length },
    candidate: { version: '2.1.0', sha256: 'b'.repeat(64) },
    incumbent: { version: '2.0.3', sha256: 'c'.repeat(64) },
    policy: { id: 'sepsis-acceptance', version: 3, sha256: 'd'.repeat(64) },
  };
}

describe('renderEvaluationReportHtml', () => {
  const input = fixture();
  const html = renderEvaluationReportHtml(input);

  it('is an HTML fragment: one section, scoped style, no scripts, no external references', () => {
    assert.match(html, /^<section class="vigil-eval-report"/);
    assert.ok(html.trimEnd().endsWith('</section>'));
    assert.doesNotMatch(html, /<script/i);
    assert.doesNotMatch(html, /<(html|head|body|link|img|iframe)\b/i);
    assert.doesNotMatch(html, /\bon[a-z]+=/i, 'no inline event handlers');
    const withoutXmlns = html.replaceAll('xmlns="http://www.w3.org/2000/svg"', '');
    assert.doesNotMatch(withoutXmlns, /https?:\/\//);
    assert.doesNotMatch(html, /url\(/);
  });

  it('escapes a malicious slice name, title and dataset name', () => {
    assert.ok(!html.includes(MALICIOUS));
    assert.ok(html.includes(escapeXml(`site=${MALICIOUS}`)));
    assert.ok(html.includes(escapeXml('holdout "2024" <q1>')));
  });

  it('contains one <svg> per plot (ROC, PR, reliability), each with a title and aria-label', () => {
    const svgs = html.match(/<svg\b[^>]*>/g) ?? [];
    assert.equal(svgs.length, 3);
    for (const s of svgs) assert.match(s, /role="img" aria-label="[^"]+"/);
    for (const t of ['ROC curve', 'Precision-recall curve', 'Reliability (calibration)'])
      assert.ok(html.includes(`<title>${t}</title>`), t);
  });

  it('names every criterion with its status text and reason', () => {
    assert.ok(
      input.report.criteria.some((c) => c.status === 'fail'),
      'fixture has a failing criterion',
    );
    for (const c of input.report.criteria) {
      assert.ok(html.includes(`<th scope="row">${escapeXml(c.id)}</th>`), c.id);
      assert.ok(html.includes(escapeXml(c.reason)), `reason of ${c.id}`);
      for (const s of c.slices) assert.ok(html.includes(escapeXml(s.reason)), `slice reason ${s.slice}`);
    }
    assert.match(html, /✗ fail/);
    assert.match(html, /✗ REJECTED|✓ ACCEPTED/);
  });

  it('names the dataset, model and policy digests', () => {
    for (const d of ['a', 'b', 'c', 'd']) assert.ok(html.includes(`<code>${d.repeat(64)}</code>`));
    assert.ok(html.includes('2.1.0') && html.includes('2.0.3') && html.includes('sepsis-acceptance version 3'));
  });

  it('lists every slice with n and positives, and marks failing slices in text as well as colour', () => {
    for (const s of input.report.slices) assert.ok(html.includes(`>${escapeXml(s.slice)}<`), s.slice);
    const failing = new Set(
      input.report.criteria.flatMap((c) => c.slices.filter((s) => s.status === 'fail').map((s) => s.slice)),
    );
    assert.ok(failing.size > 0);
    for (const slice of failing) {
      const row = new RegExp(
        `<tr class="slice-fail"><th scope="rowgroup" rowspan="\\d+">${escapeRe(escapeXml(slice))}<span class="flag flag-fail">✗ fails`,
      );
      assert.match(html, row, slice);
    }
  });

  it('is byte-identical across renders', () => {
    const again = renderEvaluationReportHtml(fixture());
    assert.equal(again, html);
  });
});

describe('renderLinePlot', () => {
  it('formats numbers with at most 4 decimals and escapes labels', () => {
    const svg = renderLinePlot({
      title: 'a<b',
      xLabel: 'x & y',
      yLabel: '"q"',
      diagonal: 'Chance',
      series: [
        { label: 'cand', x: [0, 1 / 3, 1], y: [0, 2 / 3, 1], style: 'solid' },
        { label: 'inc', x: [], y: [], style: 'dashed' },
      ],
    });
    assert.ok(svg.includes('<title>a&#60;b</title>'));
    assert.ok(svg.includes('x &#38; y'));
    assert.ok(svg.includes('inc (undefined)'));
    assert.match(svg, /stroke-dasharray="6 4"/);
    for (const num of svg.match(/\d+\.\d+/g) ?? []) assert.ok(num.split('.')[1]!.length <= 4, num);
    assert.equal(formatNumber(-0.00001), '0');
    assert.equal(formatNumber(0.123456), '0.1235');
    assert.equal(formatNumber(2), '2');
  });
});

describe('schemas/*.json', () => {
  it('are up to date with the zod schemas (regenerate: node --import tsx infra/export-json-schemas.ts)', () => {
    for (const [name, content] of Object.entries(jsonSchemaFiles())) {
      const committed = readFileSync(path.join(SCHEMAS_DIR, name), 'utf8');
      assertSameText(committed, content, name);
    }
  });
});

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
