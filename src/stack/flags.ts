/** The stack command's flags: parsed and checked before anything starts. */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEMO_CANDIDATES, DEMO_MODEL_NAME } from '../demo/artifacts';
import { REPO_ROOT, StackStartError } from './supervisor';

/** What the stack was asked to run. */
export interface Flags {
  demo: boolean;
  policy: string;
  candidate: string | undefined;
  ui: boolean;
  uiPort: number;
  /** Requests per second the traffic driver sends through the gateway while a release runs (0: none). */
  trafficRate: number;
  /** Median delay of a case's outcome after its answer (seconds). */
  outcomeDelay: number;
  /** The user's gateway models file (absolute), instead of the generated demo one. */
  models: string | undefined;
  /** Replay a user's CSV as the traffic (absolute path and columns), instead of the demo cohort. */
  traffic: { csv: string; model: string; caseIdColumn: string; labelColumn: string; siteColumn?: string } | undefined;
}

export const USAGE = `usage: vigil stack [--demo] [--policy <file>] [--candidate <version>] [--no-ui] [--ui-port <port>]
                   [--models <models.yaml> --traffic <csv> --traffic-model <name> [--label-column <c>]
                    [--case-id-column <c>] [--site-column <c>]]

  --demo            seed the demo and run its release, printing each stage and the approval commands
  --policy <file>   release policy for the demo (default demo/policies/demo.yaml)
  --candidate <v>   demo candidate: 2.0.0 (default, passes) or 2.1.0 (better overall, regresses at site C)
  --no-ui           run Temporal without its Web UI
  --ui-port <port>  Temporal Web UI port (default 8233)
  --traffic-rate <n>    traffic through the inference gateway while a release runs, requests/s
                        (default 100; 0 sends none: the live stages then see no cases)
  --outcome-delay <s>   median delay of each case's outcome after its answer (default 3; 0.5–1.5 × this)

Your own model (docs/own-model.md), instead of the demo's:
  --models <file>       the gateway's models file (as \`vigil init\` writes: your versions and model card)
  --traffic <csv>       replay this CSV's rows through the gateway, in order and over again, as the traffic;
                        each row's features in the order the gateway serves the model, its label as the outcome
  --traffic-model <m>   the model the traffic is for (a name in the models file)
  --label-column <c>    the CSV's 0/1 outcome column (default label)
  --case-id-column <c>  the CSV's case id column (default case_id)
  --site-column <c>     the CSV's site column (default: none; cases are sent with site "unknown")

Configuration comes from VIGIL_* environment variables (see src/config.ts).`;

/** Parses the stack's argv; throws StackStartError on a bad value; --help prints USAGE and exits 0. */
export function parseFlags(argv: string[]): Flags {
  const { values } = parseArgs({
    args: argv,
    options: {
      demo: { type: 'boolean', default: false },
      policy: { type: 'string' },
      candidate: { type: 'string' },
      'no-ui': { type: 'boolean', default: false },
      'ui-port': { type: 'string' },
      'traffic-rate': { type: 'string' },
      'outcome-delay': { type: 'string' },
      models: { type: 'string' },
      traffic: { type: 'string' },
      'traffic-model': { type: 'string' },
      'label-column': { type: 'string' },
      'case-id-column': { type: 'string' },
      'site-column': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const uiPort = values['ui-port'] === undefined ? 8233 : Number(values['ui-port']);
  if (!Number.isInteger(uiPort) || uiPort <= 0 || uiPort > 65535)
    throw new StackStartError(`--ui-port must be a port number, got ${values['ui-port']}`);
  const trafficRate = values['traffic-rate'] === undefined ? 100 : Number(values['traffic-rate']);
  if (!Number.isFinite(trafficRate) || trafficRate < 0 || trafficRate > 5000)
    throw new StackStartError(
      `--traffic-rate must be a number of requests per second (0–5000), got ${values['traffic-rate']}`,
    );
  const outcomeDelay = values['outcome-delay'] === undefined ? 3 : Number(values['outcome-delay']);
  if (!Number.isFinite(outcomeDelay) || outcomeDelay < 0 || outcomeDelay > 3600)
    throw new StackStartError(`--outcome-delay must be seconds (0–3600), got ${values['outcome-delay']}`);
  if (values.candidate !== undefined && !(values.candidate in DEMO_CANDIDATES)) {
    throw new StackStartError(
      `--candidate must be one of ${Object.keys(DEMO_CANDIDATES).join(', ')}, got ${values.candidate}`,
    );
  }
  return {
    demo: values.demo ?? false,
    policy: path.resolve(values.policy ?? path.join(REPO_ROOT, 'demo', 'policies', 'demo.yaml')),
    candidate: values.candidate,
    ui: !values['no-ui'],
    uiPort,
    trafficRate,
    outcomeDelay,
    ...ownModelFlags(values, trafficRate),
  };
}

/** --models and --traffic: files that exist, a model to send to, and nothing that contradicts them. */
function ownModelFlags(
  v: Partial<
    Record<'models' | 'traffic' | 'traffic-model' | 'label-column' | 'case-id-column' | 'site-column', string>
  > & {
    demo?: boolean;
  },
  trafficRate: number,
): Pick<Flags, 'models' | 'traffic'> {
  const file = (flag: string, f: string): string => {
    const p = path.resolve(f);
    if (!fs.existsSync(p)) throw new StackStartError(`${flag} ${f}: no such file`);
    return p;
  };
  const models = v.models === undefined ? undefined : file('--models', v.models);
  const columnFlags = (['traffic-model', 'label-column', 'case-id-column', 'site-column'] as const).filter(
    (k) => v[k] !== undefined,
  );
  if (v.traffic === undefined && columnFlags.length)
    throw new StackStartError(`--${columnFlags[0]} needs --traffic <csv>`);
  if ((models || v.traffic) && v.demo)
    throw new StackStartError('--demo runs the demo models and cohort: leave out --models and --traffic');
  // The demo cohort carries the demo model's features x0..x7: it cannot feed a user's model.
  if (models && v.traffic === undefined && trafficRate > 0)
    throw new StackStartError(
      `--models needs --traffic <csv> --traffic-model <name> (the demo cohort fits only ${DEMO_MODEL_NAME}), or --traffic-rate 0`,
    );
  if (v.traffic === undefined) return { models, traffic: undefined };
  if (v['traffic-model'] === undefined) throw new StackStartError('--traffic needs --traffic-model <name>');
  return {
    models,
    traffic: {
      csv: file('--traffic', v.traffic),
      model: v['traffic-model'],
      caseIdColumn: v['case-id-column'] ?? 'case_id',
      labelColumn: v['label-column'] ?? 'label',
      ...(v['site-column'] !== undefined ? { siteColumn: v['site-column'] } : {}),
    },
  };
}
