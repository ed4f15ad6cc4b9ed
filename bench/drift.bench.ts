/**
 * npm run bench:drift — false-alarm rate (no shift) and power (shift) of the monitoring drift judge per feature type
 * and window size, measured offline (values) and through the gateway's sketches and exact counts. Windows smaller
 * than the policy accepts (minDriftWindow: 87 for maxPsi 0.25, α 0.01) are reported as not judged.
 */
import os from 'node:os';
import { minDriftWindow } from '../src/stats/feature-drift';
import { alarmRates, POLICY, SCENARIOS, type Kind } from './drift-scenarios';

const SIZES = [30, 50, 87, 100, 200, 500, 1000, 2000, 5000];
const KINDS: Kind[] = ['continuous', 'binary', 'count', 'categorical'];
const noShiftWindows = (n: number) => (n <= 1000 ? 1000 : 400);
const POWER_WINDOWS = 200;

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
console.log(
  `drift judge: maxPsi ${POLICY.maxPsi}, α ${POLICY.ksAlpha}, reference 2,000 rows, minimum window ${minDriftWindow(POLICY.maxPsi, POLICY.ksAlpha)}; load ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log('| feature | via | n | windows | not judged | false alarms | PSI > bound (no shift) | power |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|');
let worst = 0;
for (const kind of KINDS) {
  for (const via of ['offline', 'gateway'] as const) {
    for (const n of SIZES) {
      const w = noShiftWindows(n);
      const a = alarmRates(kind, n, false, via, w, 7);
      const b = alarmRates(kind, n, true, via, POWER_WINDOWS, 11);
      const judged = a.windows - a.notJudged;
      if (judged > 0) worst = Math.max(worst, a.alarms / judged);
      console.log(
        `| ${kind} | ${via} | ${n} | ${w} | ${a.notJudged} | ${judged ? pct(a.alarms / judged) : '—'} | ${pct(a.psiOver / w)} | ${b.notJudged === POWER_WINDOWS ? '—' : pct(b.alarms / (POWER_WINDOWS - b.notJudged))} |`,
      );
    }
  }
}
console.log(`\nshifts: ${KINDS.map((k) => `${k}: ${SCENARIOS[k].label}`).join('; ')}`);
console.log(`largest false-alarm rate over judged windows: ${pct(worst)} (α ${pct(POLICY.ksAlpha)})`);
