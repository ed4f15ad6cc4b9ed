/**
 * docker-compose.yml as the tests read it (there is no Docker engine here): parsed with YAML merge keys, each
 * service's environment with its env_file read from secrets that infra/compose/make-secrets.sh generated into a
 * temp dir (the git-ignored infra/compose/secrets/ is never touched), and compose interpolation as an operator
 * would see it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';

export const REPO = path.resolve(__dirname, '../..');
export const readRepo = (rel: string): string => fs.readFileSync(path.join(REPO, rel), 'utf8');

export interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string; target?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  env_file?: string | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  ports?: Array<string | { published?: string | number; target?: number; host_ip?: string }>;
  volumes?: Array<string | { source?: string; target?: string; type?: string }>;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

export const compose = parse(readRepo('docker-compose.yml'), { merge: true }) as ComposeFile;

/** Where the compose file expects make-secrets.sh's output. */
export const SECRETS_REL = 'infra/compose/secrets';

/** Run make-secrets.sh into a fresh temp dir; returns that dir (the caller removes it). */
export function makeSecrets(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-compose-secrets-'));
  execFileSync('bash', [path.join(REPO, 'infra/compose/make-secrets.sh'), dir], { stdio: 'pipe' });
  return dir;
}

/** KEY=value lines of an env file (comments and blank lines skipped). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`not KEY=value: ${line}`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

export function argv(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : value.split(/\s+/).filter(Boolean);
}

/** Compose interpolation as the operator would see it: defaults applied, required values supplied. */
export function interpolate(value: string): string {
  return value.replace(/\$\{(\w+)(?::?([-?])([^}]*))?\}/g, (_m, name: string, op?: string, arg?: string) => {
    if (op === '-') return arg ?? '';
    if (op === '?') return `operator-supplied-${name.toLowerCase()}-value`;
    throw new Error(`\${${name}} has neither a default nor a required marker`);
  });
}

/** The service's `environment:` only, interpolated. */
export function inlineEnv(service: ComposeService): Record<string, string> {
  const raw = service.environment ?? {};
  const pairs = Array.isArray(raw)
    ? raw.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const)
    : Object.entries(raw).map(([k, v]) => [k, v === null ? '' : String(v)] as const);
  return Object.fromEntries(pairs.map(([k, v]) => [k, interpolate(v)]));
}

export function envFiles(service: ComposeService): string[] {
  const f = service.env_file;
  return f === undefined ? [] : Array.isArray(f) ? f : [f];
}

/**
 * What the container's environment holds: env_file values (from `secretsDir`, standing in for
 * infra/compose/secrets/) overlaid by `environment:`, as compose does.
 */
export function containerEnv(service: ComposeService, secretsDir: string): Record<string, string> {
  const fromFiles: Record<string, string> = {};
  for (const f of envFiles(service)) {
    const rel = path.posix.normalize(f);
    if (!rel.startsWith(`${SECRETS_REL}/`)) throw new Error(`env_file ${f} is not under ${SECRETS_REL}/`);
    Object.assign(
      fromFiles,
      parseEnvFile(fs.readFileSync(path.join(secretsDir, rel.slice(SECRETS_REL.length)), 'utf8')),
    );
  }
  return { ...fromFiles, ...inlineEnv(service) };
}

/** Short-syntax volume entries as {source, target, readOnly}. */
export function mounts(service: ComposeService): Array<{ source: string; target: string; readOnly: boolean }> {
  return (service.volumes ?? []).map((v) => {
    if (typeof v !== 'string') return { source: v.source ?? '', target: v.target ?? '', readOnly: false };
    const [source, target, mode] = interpolate(v).split(':');
    return { source: source!, target: target!, readOnly: mode === 'ro' };
  });
}

/** Compose services built from the repository's Dockerfile (the Vigil image). */
export function vigilServices(): Array<[string, ComposeService]> {
  return Object.entries(compose.services).filter(([, svc]) => svc.build !== undefined);
}
