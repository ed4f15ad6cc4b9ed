/**
 * npm run bench:drift — false-alarm rate (no shift) and power (shift) of the monitoring drift judge per feature type
 * and window size, measured offline (values) and through the gateway's sketches and exact counts. Windows smaller
 * than the policy accepts (minDriftWindow: 87 for maxPsi 0.25, α 0.01) are reported as not judged. Every rate comes
 * with its Clopper-Pearson 95 % interval, so a cell with fewer windows says how little it shows.
 *
 *   npm run bench:drift [-- --scale 0.5] [--kinds binary,count] [--sizes 87,100 --windows 20000 --seed 13] [--via offline]
 * `--scale` multiplies the number of windows per cell (a loaded machine can trade precision for time); `--windows`
 * fixes the no-shift windows per cell (to pin a rate near α down), `--seed` draws other windows than the default 7.
 */
import os from 'node:os';
import { minDriftWindow } from '../src/stats/feature-drift';
import { clopperPearsonInterval } from '../src/stats/proportion-intervals';
import { alarmRates, POLICY, SCENARIOS, type Kind } from './drift-scenarios';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const scale = Number(arg('scale') ?? 1);
const KINDS = (arg('kinds')?.split(',') ?? ['continuous', 'binary', 'count', 'categorical']) as Kind[];
const SIZES = arg('sizes')?.split(',').map(Number) ?? [30, 50, 87, 100, 150, 200, 500, 1000, 2000, 5000];
const fixedWindows = arg('windows') ? Number(arg('windows')) : null;
const seed = Number(arg('seed') ?? 7);
/** Discrete inputs reach the judge as the same exact counts either way: `--via offline` halves a long run. */
const VIAS = (arg('via')?.split(',') ?? ['offline', 'gateway']) as ('offline' | 'gateway')[];
/** Most windows where the rate is closest to α and the χ² approximation weakest (small windows). */
const noShiftWindows = (n: number, kind: Kind, via: string) => {
  if (fixedWindows !== null) return fixedWindows;
  const base = n <= 200 ? 5000 : n <= 1000 ? 2000 : 1000;
  // The gateway's continuous path sketches every value: costliest at large n.
  const cost = via === 'gateway' && kind === 'continuous' && n >= 2000 ? 0.4 : 1;
  return Math.max(100, Math.round(base * cost * scale));
};
const POWER_WINDOWS = Math.max(50, Math.round(200 * scale));

const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
const ci = (x: number, n: number) => {
  const i = clopperPearsonInterval(x, n);
  return `${(100 * i.lower).toFixed(2)}–${(100 * i.upper).toFixed(2)}`;
};
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const min = minDriftWindow(POLICY.maxPsi, POLICY.ksAlpha);
console.log(
  `drift judge: maxPsi ${POLICY.maxPsi}, α ${POLICY.ksAlpha}, reference 2,000 rows (fresh per window), minimum window ${min}, seed ${seed}; load at start ${load()}`,
);
console.log(
  '| feature | via | n | windows | not judged | false alarms | 95 % CI (%) | PSI > bound (no shift) | power | s |',
);
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
let worst = { rate: 0, cell: '' };
/** Judged no-shift windows and alarms per feature type, over every size and path (the gateway repeats the windows). */
const pooled = new Map<string, { alarms: number; judged: number }>();
const started = Date.now();
for (const kind of KINDS) {
  for (const via of VIAS) {
    for (const n of SIZES) {
      const t0 = Date.now();
      const w = noShiftWindows(n, kind, via);
      const a = alarmRates(kind, n, false, via, w, seed);
      const b = alarmRates(kind, n, true, via, POWER_WINDOWS, seed + 4);
      const judged = a.windows - a.notJudged;
      if (judged > 0 && a.alarms / judged > worst.rate)
        worst = { rate: a.alarms / judged, cell: `${kind} ${via} ${n}` };
      const key = `${kind} ${via}`;
      const sum = pooled.get(key) ?? { alarms: 0, judged: 0 };
      pooled.set(key, { alarms: sum.alarms + a.alarms, judged: sum.judged + judged });
      const powerJudged = POWER_WINDOWS - b.notJudged;
      console.log(
        `| ${kind} | ${via} | ${n} | ${w} | ${a.notJudged} | ${judged ? `${pct(a.alarms / judged)} (${a.alarms})` : '—'} | ${judged ? ci(a.alarms, judged) : '—'} | ${pct(a.psiOver / w)} | ${powerJudged ? pct(b.alarms / powerJudged) : '—'} | ${((Date.now() - t0) / 1000).toFixed(0)} |`,
      );
    }
  }
}
console.log(`\nshifts: ${KINDS.map((k) => `${k}: ${SCENARIOS[k].label}`).join('; ')}`);
console.log(
  `largest false-alarm rate over judged windows: ${pct(worst.rate)} (${worst.cell}; α ${pct(POLICY.ksAlpha)})`,
);
for (const [key, { alarms, judged }] of pooled)
  if (judged)
    console.log(
      `pooled ${key}: ${alarms} / ${judged} = ${(100 * (alarms / judged)).toFixed(3)} % (95 % CI ${ci(alarms, judged)} %)`,
    );
console.log(`load at end ${load()}; ${((Date.now() - started) / 60_000).toFixed(1)} min`);
