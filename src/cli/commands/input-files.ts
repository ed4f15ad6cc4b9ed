/** Reading and validating the JSON/YAML files commands take; every problem is a CliInputError (exit 2). */
import fs from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { parse as parseYaml } from 'yaml';
import { TrafficScenarioSchema, type TrafficScenario } from '../../domain';
import type { SafeParser } from '../../domain/safe-parser';

export class CliInputError extends Error {}

export function readStructured(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliInputError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new CliInputError(
      `${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
    );
  }
}

/** Field-level reasons, e.g. "invalid scenario.yaml: regression.site: Required". */
export function parseWith<T>(schema: SafeParser<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new CliInputError(
    `invalid ${what}: ${r.error.issues.map((i) => `${i.path.map(String).join('.') || '(input)'}: ${i.message}`).join('; ')}`,
  );
}

/** Commander argument parser for a numeric option: anything else is a usage error (exit 2) naming the option. */
export function numberOption(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`--${name} must be a number.`);
    return n;
  };
}

/** The options `vigil simulate` and `vigil drill rollback` describe a simulated world with. */
export interface ScenarioOptions {
  scenario?: string;
  site?: string;
  feature: string;
  scale: number;
  offset: number;
  fromInterval: number;
  labelledShare: number;
}

/** A scenario file, or a candidate-pipeline fault at `--site` (none without a site: the healthy world). */
export function scenarioFromOptions(o: ScenarioOptions): TrafficScenario {
  if (o.scenario) return parseWith(TrafficScenarioSchema, readStructured(o.scenario), o.scenario);
  return parseWith(
    TrafficScenarioSchema,
    {
      name: o.site ? `${o.site} ${o.feature} pipeline fault` : 'healthy',
      ...(o.site
        ? {
            regression: {
              site: o.site,
              feature: o.feature,
              scale: o.scale,
              offset: o.offset,
              fromInterval: o.fromInterval,
            },
          }
        : {}),
      labelledShare: o.labelledShare,
    },
    'the scenario options',
  );
}
