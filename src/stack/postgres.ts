/**
 * A PostgreSQL server of our own, for tests and the local topology: initdb into a state dir, then `postgres` as a
 * managed child listening on 127.0.0.1 only (password auth, generated password) with its unix socket inside the
 * state dir. Binaries come from Debian's packages (infra/install-postgres.sh); Debian's cluster tooling and systemd
 * are not used.
 *
 * PostgreSQL refuses to run as root. Tests and CI run as root here, so as root both initdb and the server are run as
 * the unprivileged `postgres` account (created by the Debian package; `nobody` otherwise) through setpriv, with the
 * state dir handed to that account.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Logger } from '../logging/logger';
import { freePort } from './ports';
import { spawnManaged, waitUntilReady, type ManagedProcess } from './process';

export interface StartPostgresOptions {
  /** Holds data/, the socket dir, the log and the superuser password; an existing data/ is started again. */
  stateDir: string;
  /** Default: a free port, picked again when another process takes it first. */
  port?: number;
  log: Logger;
  /** Databases to create once the server is ready (existing ones are kept). */
  databases?: string[];
  /** Directory with initdb and postgres. Default: $VIGIL_POSTGRES_BIN, else the newest /usr/lib/postgresql/N/bin. */
  binDir?: string;
  /** Extra server settings (`-c name=value`), e.g. `{ max_connections: '300' }`. */
  settings?: Record<string, string>;
  readyTimeoutMs?: number;
}

export interface PostgresServer {
  host: string;
  port: number;
  /** The superuser, with password authentication. */
  user: string;
  password: string;
  dataDir: string;
  process: ManagedProcess;
  /** A connection URL for `database` (default `postgres`). */
  url(database?: string): string;
  /** Creates `name` unless it exists. Names: lower-case letters, digits and underscores. */
  createDatabase(name: string): Promise<void>;
  /** Fast shutdown (SIGINT: running transactions are rolled back, connections closed); idempotent. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const SUPERUSER = 'vigil';
const PORT_RACE_ATTEMPTS = 4;
const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const SETPRIV = '/usr/bin/setpriv';
const run = promisify(execFile);

/** Starts PostgreSQL (initialising the cluster on first use) and creates `databases`. */
export async function startPostgres(opts: StartPostgresOptions): Promise<PostgresServer> {
  const started = Date.now();
  const binDir = opts.binDir ?? postgresBinDir();
  const stateDir = path.resolve(opts.stateDir);
  const dataDir = path.join(stateDir, 'data');
  const socketDir = path.join(stateDir, 'run');
  fs.mkdirSync(socketDir, { recursive: true, mode: 0o700 });
  // The socket path must fit sockaddr_un (107 bytes) with its ".s.PGSQL.<port>" name.
  if (Buffer.byteLength(path.join(socketDir, '.s.PGSQL.65535.lock')) > 107) {
    throw new Error(`postgres: state dir path too long for a unix socket: ${stateDir}`);
  }
  const account = serverAccount(opts.log);
  const passwordFile = path.join(stateDir, 'superuser.password');
  if (!fs.existsSync(passwordFile)) {
    fs.writeFileSync(passwordFile, crypto.randomBytes(24).toString('base64url'), { mode: 0o600 });
  }
  const password = fs.readFileSync(passwordFile, 'utf8').trim();
  if (account) handOver(stateDir, account, opts.log);

  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) await initdb(binDir, dataDir, passwordFile, account, stateDir);

  const { proc, port } = await serveOnFreePort(opts, binDir, dataDir, socketDir, account, password);
  const url = (database = 'postgres'): string =>
    `postgres://${SUPERUSER}:${encodeURIComponent(password)}@${HOST}:${port}/${database}`;
  const createDatabase = async (name: string): Promise<void> => {
    if (!DATABASE_NAME.test(name)) throw new Error(`postgres: invalid database name ${JSON.stringify(name)}`);
    const client = new pg.Client({ connectionString: url() });
    await client.connect();
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
    } catch (err) {
      // Another caller created it between the check and ours: 42P04 duplicate_database, or 23505 on pg_database.
      const code = (err as { code?: string }).code;
      if (code !== '42P04' && code !== '23505') throw err;
    } finally {
      await client.end();
    }
  };
  let stopping: Promise<void> | undefined;
  let gone = false;
  void proc.exited.then(() => (gone = true));
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (gone) return; // its pid may belong to another process by now
      try {
        process.kill(proc.pid, 'SIGINT');
      } catch {
        return; // already gone
      }
      // A fast shutdown takes well under a second; SIGTERM/SIGKILL only if it hangs.
      const timer = setTimeout(() => void proc.stop(2000), 20_000);
      await proc.exited;
      clearTimeout(timer);
    })();
    return stopping;
  };
  try {
    for (const db of opts.databases ?? []) await createDatabase(db);
  } catch (err) {
    await stop();
    throw err;
  }
  opts.log.info({ port, pid: proc.pid, dataDir, startMs: Date.now() - started }, 'postgres ready');
  return { host: HOST, port, user: SUPERUSER, password, dataDir, process: proc, url, createDatabase, stop };
}

/** $VIGIL_POSTGRES_BIN, else the newest /usr/lib/postgresql/<major>/bin holding initdb and postgres. */
export function postgresBinDir(): string {
  const fromEnv = process.env.VIGIL_POSTGRES_BIN;
  if (fromEnv) return fromEnv;
  const root = '/usr/lib/postgresql';
  const majors = fs.existsSync(root)
    ? fs
        .readdirSync(root)
        .filter((v) => /^\d+$/.test(v) && fs.existsSync(path.join(root, v, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors.length === 0) {
    throw new Error('postgres: no server binaries under /usr/lib/postgresql/*/bin (run infra/install-postgres.sh)');
  }
  return path.join(root, majors[0]!, 'bin');
}

interface Account {
  name: string;
  uid: number;
  gid: number;
}

/** As root: the account to run the server as (postgres, else nobody). Otherwise null: run as ourselves. */
function serverAccount(log: Logger): Account | null {
  if (process.getuid?.() !== 0) return null;
  if (!fs.existsSync(SETPRIV)) throw new Error(`postgres: running as root needs ${SETPRIV} to drop privileges`);
  const passwd = fs.readFileSync('/etc/passwd', 'utf8').split('\n');
  for (const name of ['postgres', 'nobody']) {
    const fields = passwd.find((l) => l.startsWith(`${name}:`))?.split(':');
    if (fields && fields.length >= 4) {
      log.debug({ account: name }, 'postgres: running as root; the server runs as an unprivileged account');
      return { name, uid: Number(fields[2]), gid: Number(fields[3]) };
    }
  }
  throw new Error('postgres: running as root and neither a "postgres" nor a "nobody" account exists to run it as');
}

/** A command line run as `account` (via setpriv), or as is. */
function asAccount(account: Account | null, command: string, args: string[], pdeathsig?: string): [string, string[]] {
  if (!account) return [command, args];
  const drop = ['--reuid', String(account.uid), '--regid', String(account.gid), '--clear-groups'];
  return [SETPRIV, [...drop, ...(pdeathsig ? ['--pdeathsig', pdeathsig] : []), '--', command, ...args]];
}

/**
 * The state dir becomes the account's, and the account must be able to reach it: ancestors we own inside the temp
 * dir (mkdtemp makes them 0700) get search permission for others (x, not r: their listings stay private).
 */
function handOver(stateDir: string, account: Account, log: Logger): void {
  chownTree(stateDir, account);
  const tmp = fs.realpathSync(os.tmpdir());
  for (let dir = path.dirname(stateDir); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const st = fs.statSync(dir);
    const reachable = st.uid === account.uid || (st.gid === account.gid && st.mode & 0o010) || st.mode & 0o001;
    if (reachable) continue;
    if (dir.startsWith(`${tmp}${path.sep}`) && st.uid === process.getuid?.()) {
      fs.chmodSync(dir, st.mode | 0o001);
      log.debug({ dir }, 'postgres: gave the server account search permission on a temp dir');
      continue;
    }
    throw new Error(
      `postgres: the ${account.name} account cannot reach ${stateDir} (no search permission on ${dir}); ` +
        'use a state dir under the temp dir or one it can reach',
    );
  }
}

function chownTree(p: string, account: Account): void {
  fs.chownSync(p, account.uid, account.gid);
  const st = fs.lstatSync(p);
  if (!st.isDirectory()) return;
  for (const name of fs.readdirSync(p)) chownTree(path.join(p, name), account);
}

async function initdb(
  binDir: string,
  dataDir: string,
  passwordFile: string,
  account: Account | null,
  stateDir: string,
): Promise<void> {
  const args = [
    '-D',
    dataDir,
    '-U',
    SUPERUSER,
    `--pwfile=${passwordFile}`,
    // Passwords on every connection, the socket included: the socket dir is private anyway.
    '--auth=scram-sha-256',
    '--encoding=UTF8',
    '--no-locale',
  ];
  const [cmd, cmdArgs] = asAccount(account, path.join(binDir, 'initdb'), args);
  try {
    await run(cmd, cmdArgs, { cwd: stateDir, timeout: 180_000 });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`postgres: initdb failed: ${e.message}\n${e.stderr ?? ''}${e.stdout ?? ''}`, { cause: err });
  }
}

/** The server on `opts.port`, or on a free port that is picked again when someone else binds it first. */
async function serveOnFreePort(
  opts: StartPostgresOptions,
  binDir: string,
  dataDir: string,
  socketDir: string,
  account: Account | null,
  password: string,
): Promise<{ proc: ManagedProcess; port: number }> {
  const logFile = path.join(path.dirname(dataDir), 'postgres.log');
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await freePort());
    const settings: Record<string, string> = {
      listen_addresses: HOST,
      port: String(port),
      unix_socket_directories: socketDir,
      max_connections: '200',
      ...opts.settings,
    };
    const args = ['-D', dataDir, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    // SIGINT on our death: a fast shutdown, so the cluster is not left to crash recovery.
    const [command, cmdArgs] = asAccount(account, path.join(binDir, 'postgres'), args, 'SIGINT');
    const proc = spawnManaged({
      name: 'postgres',
      command,
      args: cmdArgs,
      logFile,
      log: opts.log,
      cwd: path.dirname(dataDir),
    });
    try {
      await waitUntilReady(proc, () => accepts(port, password), opts.readyTimeoutMs ?? 60_000, 200);
      return { proc, port };
    } catch (e) {
      const text = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
      const lostRace = /could not bind IPv4 address[^\n]*Address already in use/i.test(text);
      if (opts.port !== undefined || attempt >= PORT_RACE_ATTEMPTS || !lostRace) throw e;
      opts.log.warn({ attempt, port }, 'postgres lost a port race; starting it again on another port');
      fs.renameSync(logFile, `${logFile}.${attempt}`);
    }
  }
}

/** Whether the server accepts a password login and answers a query (not merely listens: it may be starting up). */
async function accepts(port: number, password: string): Promise<boolean> {
  const client = new pg.Client({
    host: HOST,
    port,
    user: SUPERUSER,
    password,
    database: 'postgres',
    connectionTimeoutMillis: 2000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}
