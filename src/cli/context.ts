/**
 * What every `vigil` command module shares: the process's io, the exit codes, the usage error, output helpers,
 * and the API client built lazily from the environment (commands that work on local files never need it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig, type VigilConfig } from '../config';
import { ApiClient } from './api-client';

/** Exit codes: documented in `vigil --help`. */
export const Exit = { ok: 0, internal: 1, usage: 2, refused: 3, failed: 4 } as const;

/** The process as the CLI sees it (tests pass their own). */
/** The part of the CLI's I/O a command that prints and reads the environment needs. */
export type CommandIo = Pick<CliIo, 'env' | 'stdout' | 'stderr'>;

export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
  /** Reads a password from the terminal without echo; absent or throwing when there is no terminal. */
  promptPassword?: (prompt: string) => Promise<string>;
}

/** Bad input caught before anything is sent: exit 2. */
export class UsageError extends Error {}

/** A command's view of the CLI: io, printing, the API client, and the exit code to end with. */
export interface CliContext {
  io: CliIo;
  /** A line (a trailing newline is added when missing). */
  print(text: string): void;
  /** Pretty-printed JSON. */
  printJson(value: unknown): void;
  /** The API client (built on first use, so a configuration error only hits commands that call the API). */
  client(): ApiClient;
  /** The exit code when the command ends normally (default 0). */
  setExit(code: number): void;
}

/** The context for one run. */
export function createCliContext(io: CliIo, setExit: (code: number) => void): CliContext {
  let api: ApiClient | undefined;
  return {
    io,
    print: (text) => io.stdout(text.endsWith('\n') ? text : `${text}\n`),
    printJson: (value) => io.stdout(`${JSON.stringify(value, null, 2)}\n`),
    client: () => (api ??= apiClientFrom(io.env)),
    setExit,
  };
}

/** Vigil's configuration from the environment; a configuration problem is a usage error (exit 2), on one line. */
export function cliConfig(env: NodeJS.ProcessEnv): VigilConfig {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message.replace(/\s*\n\s*/g, ' '));
    throw err;
  }
}

/** VIGIL_API_URL and the token (VIGIL_API_TOKEN, else `<state dir>/api-token` when it exists). */
export function apiClientFrom(env: NodeJS.ProcessEnv): ApiClient {
  const config = cliConfig(env);
  let token = config.api.token;
  const tokenFile = path.join(config.stateDir, 'api-token');
  if (token === undefined && fs.existsSync(tokenFile)) token = fs.readFileSync(tokenFile, 'utf8').trim() || undefined;
  return new ApiClient({ baseUrl: config.api.url, token });
}

/** zod issues as one line; `names` renames paths (e.g. dossierSha256 → --digest). */
export function issueLine(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
  names: Record<string, string> = {},
): string {
  return issues
    .map((i) => {
      const p = i.path.map(String).join('.');
      return `${names[p] ?? (p || '(input)')}: ${i.message}`;
    })
    .join('; ');
}
