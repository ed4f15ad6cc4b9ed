import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
const scenario = process.argv[2] ?? 'shadow';
const FEATURES = ['x0','x1','x2','x3','x4','x5','x6','x7'];
const body = JSON.stringify({ parameters: { case_id: 'bench-case-0001', site: 'site-a' }, inputs: FEATURES.map((f, k) => ({ name: f, shape: [1], datatype: 'FP32', data: [(k - 3.5) / 4] })) });
const proc = spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir=/tmp/gwprof', '--import', 'tsx', '/work/main/bench/gateway.bench.ts', '--serve', scenario], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
proc.stdout!.on('data', (c) => {
  out += c; const line = out.split('\n').find((l) => l.startsWith('{"port"'));
  if (line && !(proc as any).done) { (proc as any).done = true; const port = JSON.parse(line).port;
    autocannon({ url: `http://127.0.0.1:${port}/v2/models/sepsis-alert/infer`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections: 10, duration: 6 }, (e, r) => { console.log(scenario, r.requests.average, 'non2xx', r.non2xx); proc.kill('SIGTERM'); proc.on('exit', () => { console.log(out.split('\n').find((l) => l.startsWith('{"stats"'))); }); });
  }
});
