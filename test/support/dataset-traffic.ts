/**
 * Simulated live traffic drawn from a release's own evaluation CSV: each window is a reproducible draw (with
 * replacement, seeded by the window's name) of its rows, with their recorded outcomes. For a model whose features
 * the worker's demo world (`x0..x7`) does not carry, until a gateway serves it. Measurements stay `source: simulated`.
 */
import fs from 'node:fs';
import { parse as parseCsv } from 'csv-parse/sync';
import type { SimCase, TrafficSource } from '../../src/contracts/traffic';
import { hashPatientId } from '../../src/leakage/checks';
import { prng } from '../../src/sim/prng';

export class DatasetTraffic implements TrafficSource {
  private readonly columns: string[];
  private readonly rows: Array<{ caseId: string; patientId: string; features: number[]; label: 0 | 1 }>;

  constructor(csvFile: string, o: { caseId: string; patientId: string; label: string }) {
    const [header, ...body] = parseCsv(fs.readFileSync(csvFile), { bom: true, trim: true }) as string[][];
    const at = (c: string) => header!.indexOf(c);
    this.columns = header!.filter((c) => c !== o.caseId && c !== o.patientId && c !== o.label);
    const idx = this.columns.map(at);
    this.rows = body.map((r) => ({
      caseId: r[at(o.caseId)]!,
      patientId: r[at(o.patientId)]!,
      features: idx.map((k) => Number(r[k])),
      label: r[at(o.label)] === '1' ? 1 : 0,
    }));
  }

  async cases(window: string, n: number, interval?: number): Promise<{ columns: readonly string[]; cases: SimCase[] }> {
    const rand = prng(`dataset:${window}:${interval ?? '-'}`);
    const cases: SimCase[] = [];
    for (let i = 0; i < n; i++) {
      const row = this.rows[Math.floor(rand() * this.rows.length)]!;
      // A draw is a new visit: its own case id; the patient keeps theirs (hashed, as live traffic carries it).
      cases.push({
        caseId: `${window}:${interval ?? 0}:${i}:${row.caseId}`,
        patientId: hashPatientId(row.patientId, 'dataset-traffic'),
        site: 'site-1',
        sex: 'U',
        ageBand: 'unknown',
        features: row.features,
        label: row.label,
      });
    }
    return { columns: this.columns, cases };
  }
}
