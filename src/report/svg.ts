/**
 * A tiny, dependency-free SVG line-plot renderer for unit-square plots (ROC, precision-recall, reliability).
 * Pure and deterministic: same input → same bytes; numbers carry at most 4 decimals; all text is escaped.
 */

/** Escapes text for HTML/XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A number with at most `decimals` (≤ 4) decimals, trailing zeros dropped, never "-0"; non-finite → "NaN"/"Infinity" text. */
export function formatNumber(value: number, decimals = 4): string {
  if (!Number.isFinite(value)) return String(value);
  const d = Math.min(4, Math.max(0, Math.floor(decimals)));
  const s = value
    .toFixed(d)
    .replace(/(\.\d*?)0+$/, '$1')
    .replace(/\.$/, '');
  return s === '-0' ? '0' : s;
}

export interface PlotSeries {
  label: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** solid: the candidate; dashed: the comparator (incumbent). */
  style: 'solid' | 'dashed';
  /** Draw a small marker at each point (for sparse curves such as reliability bins). */
  markers?: boolean;
}

export interface LinePlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: PlotSeries[];
  /** The y = x diagonal with its legend label (ROC: chance; reliability: perfect calibration); omitted when absent. */
  diagonal?: string;
  /** Longer text for screen readers; defaults to a summary naming the axes and series. */
  description?: string;
  width?: number;
  height?: number;
}

const STYLE = {
  solid: { stroke: '#1f4e9c', dash: '' },
  dashed: { stroke: '#c2571a', dash: ' stroke-dasharray="6 4"' },
} as const;
const TICKS = [0, 0.2, 0.4, 0.6, 0.8, 1];

/** Renders a line plot over [0, 1] × [0, 1] as a standalone `<svg>` element (also valid inline in HTML). */
export function renderLinePlot(options: LinePlotOptions): string {
  const width = options.width ?? 360;
  const height = options.height ?? 340;
  const margin = {
    left: 52,
    right: 14,
    top: 30,
    bottom: 44 + 16 * Math.ceil((options.series.length + (options.diagonal ? 1 : 0)) / 2),
  };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  if (plotW <= 40 || plotH <= 40) throw new RangeError(`plot area too small (${width}×${height})`);
  const px = (v: number) => formatNumber(margin.left + clamp01(v) * plotW, 2);
  const py = (v: number) => formatNumber(margin.top + (1 - clamp01(v)) * plotH, 2);
  const bottom = margin.top + plotH;
  const right = margin.left + plotW;

  const description =
    options.description ??
    `${options.title}: ${options.yLabel} against ${options.xLabel}; ${options.series.map((s) => `${s.label} (${s.style} line, ${s.x.length} points)`).join(', ')}` +
      (options.diagonal ? `; dotted diagonal: ${options.diagonal}` : '');
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(description)}" font-family="system-ui, sans-serif" font-size="11">`,
    `<title>${escapeXml(options.title)}</title>`,
    `<desc>${escapeXml(description)}</desc>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${formatNumber(width / 2)}" y="18" text-anchor="middle" font-size="13" font-weight="600" fill="#111111">${escapeXml(options.title)}</text>`,
  );

  // grid, ticks and tick labels
  const grid: string[] = [];
  const labels: string[] = [];
  for (const t of TICKS) {
    const x = px(t);
    const y = py(t);
    grid.push(`M${x} ${margin.top}V${bottom}`, `M${margin.left} ${y}H${right}`);
    labels.push(
      `<text x="${x}" y="${bottom + 16}" text-anchor="middle">${formatNumber(t, 1)}</text>`,
      `<text x="${margin.left - 6}" y="${formatNumber(Number(y) + 4, 2)}" text-anchor="end">${formatNumber(t, 1)}</text>`,
    );
  }
  out.push(`<path d="${grid.join('')}" stroke="#e3e3e3" stroke-width="1" fill="none"/>`);
  const ticks = TICKS.map((t) => `M${px(t)} ${bottom}v4M${margin.left} ${py(t)}h-4`).join('');
  out.push(
    `<path d="M${margin.left} ${margin.top}V${bottom}H${right}${ticks}" stroke="#333333" stroke-width="1" fill="none"/>`,
  );
  out.push(`<g fill="#333333">${labels.join('')}</g>`);
  out.push(
    `<text x="${formatNumber(margin.left + plotW / 2, 2)}" y="${bottom + 34}" text-anchor="middle" fill="#111111">${escapeXml(options.xLabel)}</text>`,
    `<text x="14" y="${formatNumber(margin.top + plotH / 2, 2)}" text-anchor="middle" fill="#111111" transform="rotate(-90 14 ${formatNumber(margin.top + plotH / 2, 2)})">${escapeXml(options.yLabel)}</text>`,
  );

  if (options.diagonal) {
    out.push(
      `<path d="M${px(0)} ${py(0)}L${px(1)} ${py(1)}" stroke="#8a8a8a" stroke-width="1" stroke-dasharray="2 3" fill="none"/>`,
    );
  }
  for (const s of options.series) {
    if (s.x.length !== s.y.length)
      throw new RangeError(`series "${s.label}": x has ${s.x.length} points but y has ${s.y.length}`);
    const { stroke, dash } = STYLE[s.style];
    const d: string[] = [];
    for (let i = 0; i < s.x.length; i++) d.push(`${i === 0 ? 'M' : 'L'}${px(s.x[i]!)} ${py(s.y[i]!)}`);
    if (d.length > 0)
      out.push(
        `<path d="${d.join('')}" stroke="${stroke}" stroke-width="2"${dash} fill="none" stroke-linejoin="round"/>`,
      );
    if (s.markers && s.x.length > 0) {
      const dots: string[] = [];
      for (let i = 0; i < s.x.length; i++) dots.push(`<circle cx="${px(s.x[i]!)}" cy="${py(s.y[i]!)}" r="2.5"/>`);
      out.push(
        `<g fill="${s.style === 'solid' ? stroke : '#ffffff'}" stroke="${stroke}" stroke-width="1.2">${dots.join('')}</g>`,
      );
    }
  }

  // legend, two entries per row under the x-axis label
  const entries: { label: string; line: string }[] = options.series.map((s) => ({
    label: s.x.length === 0 ? `${s.label} (undefined)` : s.label,
    line: `stroke="${STYLE[s.style].stroke}" stroke-width="2"${STYLE[s.style].dash}`,
  }));
  if (options.diagonal)
    entries.push({ label: options.diagonal, line: 'stroke="#8a8a8a" stroke-width="1" stroke-dasharray="2 3"' });
  const colW = plotW / 2;
  entries.forEach((e, i) => {
    const x = margin.left + (i % 2) * colW;
    const y = bottom + 52 + 16 * Math.floor(i / 2);
    out.push(
      `<path d="M${formatNumber(x, 2)} ${y - 4}h24" ${e.line} fill="none"/>`,
      `<text x="${formatNumber(x + 30, 2)}" y="${y}" fill="#111111">${escapeXml(e.label)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('');
}

function clamp01(v: number): number {
  return Number.isNaN(v) ? 0 : v < 0 ? 0 : v > 1 ? 1 : v;
}
