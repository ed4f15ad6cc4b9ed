/**
 * The stack's traffic from a user's CSV (`--traffic <csv>`): its rows replayed, in order and then again, through the
 * inference gateway as the demo cohort is (src/stack/demo-traffic.ts, src/sim/gateway-driver.ts), each request
 * carrying the row's features in the order the gateway serves the model with (its OIP model metadata, i.e. the
 * model card's), each outcome the row's label. A replay of a recorded cohort, not a simulation: the rows are the
 * user's own cases, sent over the real path and measured from the gateway's telemetry.
 */
import fs from 'node:fs';
import { readCsvRecords } from '../data/csv-records';
import type { SimCase } from '../contracts/traffic';

/** Which CSV columns hold the case id, the 0/1 outcome and (optionally) the site. */
export interface CsvTrafficColumns {
  caseId: string;
  label: string;
  site?: string;
}

/** A traffic CSV, read and checked: the header, and the rows' cells. */
export interface TrafficCsv {
  file: string;
  header: readonly string[];
  rows: readonly string[][];
  columns: CsvTrafficColumns;
}

/** Reads and checks a traffic CSV (named columns present, labels 0/1, at least one row); throws an Error naming why. */
export function readTrafficCsv(file: string, columns: CsvTrafficColumns): TrafficCsv {
  let cells: string[][];
  try {
    cells = readCsvRecords(fs.readFileSync(file));
  } catch (e) {
    throw new Error(
      `--traffic ${file}: cannot read it as CSV: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      { cause: e },
    );
  }
  const [header = [], ...rows] = cells;
  const named: Array<[string, string | undefined]> = [
    ['--case-id-column', columns.caseId],
    ['--label-column', columns.label],
    ['--site-column', columns.site],
  ];
  for (const [flag, col] of named)
    if (col !== undefined && !header.includes(col))
      throw new Error(`--traffic ${file} has no column "${col}" (${flag}); its columns: ${header.join(', ')}`);
  if (rows.length === 0) throw new Error(`--traffic ${file} has no rows`);
  const labelAt = header.indexOf(columns.label);
  const bad = rows.findIndex((r) => r[labelAt] !== '0' && r[labelAt] !== '1');
  if (bad >= 0)
    throw new Error(
      `--traffic ${file}: label column "${columns.label}" must hold 0 or 1; row ${bad + 1} has "${rows[bad]![labelAt]}"`,
    );
  return { file, header, rows, columns };
}

/**
 * The features' column indices in `csv`, in the order given (the model's); throws naming every missing column, or
 * the first cell that is not a number.
 */
export function featureColumns(csv: TrafficCsv, features: readonly string[]): number[] {
  const missing = features.filter((f) => !csv.header.includes(f));
  if (missing.length)
    throw new Error(
      `--traffic ${csv.file} lacks the model's feature column(s) ${missing.map((f) => `"${f}"`).join(', ')} (the gateway serves it with ${features.length} features: ${features.join(', ')})`,
    );
  const idx = features.map((f) => csv.header.indexOf(f));
  csv.rows.forEach((r, i) => {
    for (const k of idx)
      if (r[k] === '' || !Number.isFinite(Number(r[k])))
        throw new Error(`--traffic ${csv.file}: row ${i + 1}, column "${csv.header[k]}": "${r[k]}" is not a number`);
  });
  return idx;
}

/**
 * Cases `start` … `start + n - 1` of the endless replay of `csv`'s rows (row `k % rows`, pass `⌊k / rows⌋`): each with
 * its row's features in `idx` order and its label. A case id is the row's own, suffixed with the run and pass
 * (`<case id>@<run>.<pass>`), so every replay of a row (and every stack start) is a new case to the gateway.
 */
export function csvCases(
  csv: TrafficCsv,
  idx: readonly number[],
  o: { run: string; start: number; n: number },
): SimCase[] {
  const at = (c: string | undefined) => (c === undefined ? -1 : csv.header.indexOf(c));
  const [caseAt, labelAt, siteAt] = [at(csv.columns.caseId), at(csv.columns.label), at(csv.columns.site)];
  const out: SimCase[] = [];
  for (let k = o.start; k < o.start + o.n; k++) {
    const r = csv.rows[k % csv.rows.length]!;
    out.push({
      caseId: `${r[caseAt]}@${o.run}.${Math.floor(k / csv.rows.length)}`,
      patientId: '', // not sent: the gateway's requests carry no patient id
      site: siteAt >= 0 ? r[siteAt]! : 'unknown',
      sex: 'U',
      ageBand: 'unknown',
      features: idx.map((i) => Number(r[i])),
      label: r[labelAt] === '1' ? 1 : 0,
    });
  }
  return out;
}

/** The gateway's input contract for `model` (its OIP model metadata's inputs, in order). */
export async function servedFeatures(
  gatewayUrl: string,
  model: string,
  fetchImpl: typeof fetch = fetch,
): Promise<string[]> {
  const res = await fetchImpl(`${gatewayUrl.replace(/\/+$/, '')}/v2/models/${encodeURIComponent(model)}`, {
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  if (res.status === 404) throw new Error(`the gateway does not serve model "${model}" (--traffic-model): ${text}`);
  if (res.status !== 200)
    throw new Error(`gateway model metadata for "${model}": HTTP ${res.status} ${text.slice(0, 200)}`);
  return (JSON.parse(text) as { inputs: Array<{ name: string }> }).inputs.map((i) => i.name);
}

/**
 * The replay's cases chunk by chunk, for startDemoTraffic's `input`: the features are asked of the gateway once (and
 * checked against the CSV) before the first chunk; chunk `c` of `n` cases continues where chunk `c - 1` ended.
 */
export function csvReplay(
  csv: TrafficCsv,
  o: { gatewayUrl: string; model: string; run: string; fetchImpl?: typeof fetch },
): (n: number) => Promise<{ columns: readonly string[]; cases: SimCase[] }> {
  let plan: { columns: string[]; idx: number[] } | null = null;
  let next = 0;
  return async (n) => {
    if (!plan) {
      const columns = await servedFeatures(o.gatewayUrl, o.model, o.fetchImpl);
      plan = { columns, idx: featureColumns(csv, columns) };
    }
    const cases = csvCases(csv, plan.idx, { run: o.run, start: next, n });
    next += n;
    return { columns: plan.columns, cases };
  };
}
