import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { FileIdentityProvider } from '../../src/auth/users';
import { loadConfig } from '../../src/config';
import { freePort } from '../../src/stack/ports';
import { READER_ACTIONS, WORKER_ACTIONS } from '../../src/stack/seaweed';
import { nginxBinary } from '../../src/topology/nginx';
import {
  argv,
  compose,
  containerEnv,
  envFiles,
  makeSecrets,
  mounts,
  readRepo,
  REPO,
  vigilServices,
  type ComposeService,
} from '../support/compose-file';

/**
 * docker-compose.yml and the Dockerfile cannot be run here (no Docker engine), so this checks what
 * breaks them silently: entry points that the build does not produce, env vars the app ignores,
 * credentials that do not match the S3 identities, floating image tags, missing files.
 */
const root = REPO;
const read = readRepo;
const exists = (rel: string): boolean => fs.existsSync(path.join(root, rel));

const services = compose.services;
const vigil = vigilServices();
const dockerfile = read('Dockerfile');
let secretsDir = '';
before(() => {
  secretsDir = makeSecrets();
});
after(() => fs.rmSync(secretsDir, { recursive: true, force: true }));

/** Dockerfile instructions with line continuations joined. */
const instructions = dockerfile
  .replace(/\\\r?\n/g, ' ')
  .split(/\r?\n/)
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
const copies = instructions
  .filter((l) => /^COPY\s/i.test(l) && !/--from=/i.test(l))
  .map((l) =>
    l
      .replace(/^COPY\s+/i, '')
      .replace(/--\S+\s+/g, '')
      .split(/\s+/),
  )
  .map((parts) => ({ sources: parts.slice(0, -1), dest: parts[parts.length - 1]! }));
const workdir =
  instructions
    .filter((l) => /^WORKDIR\s/i.test(l))
    .map((l) => l.split(/\s+/)[1]!)
    .pop() ?? '/';

/** The script a vigil service runs: the image's CMD unless the service overrides it. */
function scriptOf(service: ComposeService): string {
  const cmd = [...argv(service.entrypoint), ...argv(service.command)];
  const fromImage = instructions.filter((l) => /^CMD\s/i.test(l)).pop();
  const args = cmd.length > 0 ? cmd : (JSON.parse(fromImage!.replace(/^CMD\s+/i, '')) as string[]);
  const script = args.find((a) => /\.(c|m)?js$/.test(a));
  assert.ok(script, `no script in ${JSON.stringify(args)}`);
  return script;
}

/** True when a non-stage COPY puts repo file `rel` at <WORKDIR>/<rel> in the image. */
function copiedIntoImage(rel: string): boolean {
  return copies.some(({ sources, dest }) =>
    sources.some((src) => {
      const s = src.replace(/^\.\//, '').replace(/\/$/, '');
      const target = path.posix.resolve(workdir, dest);
      if (s === rel)
        return (
          target === path.posix.join(workdir, rel) ||
          (dest.endsWith('/') && target === path.posix.join(workdir, path.posix.dirname(rel)))
        );
      return rel.startsWith(`${s}/`) && target === path.posix.join(workdir, s);
    }),
  );
}

const configSource = read('src/config.ts');
const knownVars = new Set([...configSource.matchAll(/\b(VIGIL_[A-Z0-9_]+)\s*:/g)].map((m) => m[1]!));

describe('docker-compose.yml', () => {
  it('has the production topology: two workers, two API replicas behind nginx, two gateways', () => {
    for (const name of [
      'postgres',
      'temporal',
      'temporal-ui',
      'seaweedfs',
      'setup',
      'worker-1',
      'worker-2',
      'api-1',
      'api-2',
      'gateway-1',
      'gateway-2',
      'nginx',
    ]) {
      assert.ok(services[name], `service ${name} is missing`);
    }
  });

  it('pins every image (no :latest, no bare names)', () => {
    for (const [name, svc] of Object.entries(services)) {
      if (svc.image === undefined) continue;
      const ref = svc.image;
      const tag = ref.includes('@sha256:') ? 'digest' : ref.slice(ref.lastIndexOf('/') + 1).split(':')[1];
      assert.ok(tag, `${name}: image ${ref} has no tag`);
      assert.notEqual(tag, 'latest', `${name}: image ${ref} floats`);
      assert.match(tag, /\d/, `${name}: image ${ref} should name a version`);
    }
  });

  it('builds every vigil service from the Dockerfile, tagged with the package version', () => {
    assert.ok(vigil.length >= 7);
    const version = (JSON.parse(read('package.json')) as { version: string }).version;
    for (const [name, svc] of vigil) {
      const build = typeof svc.build === 'string' ? { context: svc.build } : svc.build;
      assert.ok(build, `${name} has no build`);
      assert.equal(path.resolve(root, build.context ?? '.'), root, `${name}: build context is not the repo root`);
      assert.equal(build.dockerfile ?? 'Dockerfile', 'Dockerfile', `${name}: unexpected Dockerfile`);
      assert.equal(build.target, undefined, `${name}: must run the runtime stage`);
      assert.equal(svc.image, `vigil:${version}`, `${name}: image tag is not the package version`);
    }
  });

  it('runs only scripts the image contains: dist/* compiled from src/, infra/* copied by the Dockerfile', () => {
    const buildTsconfig = JSON.parse(read('tsconfig.build.json')) as {
      compilerOptions: { rootDir: string; outDir: string };
      include: string[];
    };
    assert.equal(buildTsconfig.compilerOptions.rootDir, 'src');
    assert.equal(buildTsconfig.compilerOptions.outDir, 'dist');
    assert.ok(buildTsconfig.include.includes('src'));
    assert.ok(copiedIntoImage('src'), 'the Dockerfile does not COPY src/');
    assert.match(dockerfile, /npm run build/, 'the Dockerfile does not run the build');

    for (const [name, svc] of vigil) {
      const script = scriptOf(svc);
      if (script.startsWith('dist/')) {
        const source = `src/${script.slice('dist/'.length).replace(/\.js$/, '.ts')}`;
        assert.ok(exists(source), `${name} runs ${script}, but ${source} does not exist`);
      } else if (script.startsWith('infra/')) {
        assert.ok(exists(script), `${name} runs ${script}, which does not exist`);
        assert.ok(copiedIntoImage(script), `${name} runs ${script}, which the Dockerfile does not COPY to ${workdir}`);
      } else {
        assert.fail(`${name} runs ${script}, which is neither in dist/ nor infra/`);
      }
    }
  });

  it('infra scripts require only dist modules that src/ builds, and only names those modules export', async () => {
    for (const [, svc] of vigil) {
      const script = scriptOf(svc);
      if (!script.startsWith('infra/')) continue;
      const requires = [...read(script).matchAll(/const\s*\{([^}]*)\}\s*=\s*require\('\.\.\/dist\/([^']+)'\)/g)];
      assert.ok(requires.length > 0, `${script}: expected requires of ../dist modules`);
      for (const [, names, mod] of requires) {
        const source = `src/${mod}.ts`;
        assert.ok(exists(source), `${script} requires dist/${mod}, but ${source} does not exist`);
        const exported = (await import(path.join(root, source))) as Record<string, unknown>;
        for (const n of names!
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)) {
          assert.notEqual(
            exported[n],
            undefined,
            `${script} uses ${n} from dist/${mod}, which ${source} does not export`,
          );
        }
      }
    }
  });

  it('sets only env vars src/config.ts knows (env files included), with values loadConfig accepts', () => {
    assert.ok(knownVars.size >= 10, 'could not read the VIGIL_* names from src/config.ts');
    for (const [name, svc] of vigil) {
      const vars = containerEnv(svc, secretsDir);
      const unknown = Object.keys(vars).filter((k) => !knownVars.has(k));
      assert.deepEqual(unknown, [], `${name} sets env vars the app ignores`);
      assert.doesNotThrow(() => loadConfig(vars), `${name}: loadConfig rejects its environment`);
    }
    const dockerfileEnv = [...dockerfile.matchAll(/^ENV\s+(VIGIL_[A-Z0-9_]+)=/gm)].map((m) => m[1]!);
    assert.deepEqual(
      dockerfileEnv.filter((k) => !knownVars.has(k)),
      [],
    );
  });

  it('keeps evidence under COMPLIANCE retention for years', () => {
    for (const [name, svc] of vigil) {
      const config = loadConfig(containerEnv(svc, secretsDir));
      assert.equal(config.retention?.mode, 'COMPLIANCE', name);
      assert.ok(config.retention.days >= 365 * 6, `${name}: retention of ${config.retention.days} days is too short`);
    }
  });

  it('points every worker at the workflow bundle the Dockerfile builds', () => {
    for (const name of ['worker-1', 'worker-2']) {
      const bundle = containerEnv(services[name]!, secretsDir).VIGIL_WORKFLOW_BUNDLE;
      assert.ok(bundle, `${name} does not use a pre-built workflow bundle`);
      const rel = path.posix.relative(workdir, bundle);
      assert.match(dockerfile, new RegExp(`tsx infra/bundle-workflows\\.ts ${rel.replace(/\./g, '\\.')}\\b`));
    }
    assert.ok(exists('infra/bundle-workflows.ts'));
    assert.ok(copiedIntoImage('infra/bundle-workflows.ts'), 'the build stage does not COPY infra/bundle-workflows.ts');
  });

  it('gives each role its own S3 identity from the generated s3.json: writer, read-only, admin for setup only', () => {
    const sw = services.seaweedfs!;
    const s3Mount = mounts(sw).find((m) => m.target === '/etc/seaweedfs/s3.json');
    assert.equal(s3Mount?.source, './infra/compose/secrets/seaweedfs/s3.json');
    assert.ok(s3Mount.readOnly);
    assert.ok(argv(sw.command).includes('-s3.config=/etc/seaweedfs/s3.json'), 'seaweedfs does not load it');

    const s3 = JSON.parse(fs.readFileSync(path.join(secretsDir, 'seaweedfs/s3.json'), 'utf8')) as {
      identities: Array<{
        name: string;
        credentials: Array<{ accessKey: string; secretKey: string }>;
        actions: string[];
      }>;
    };
    const identityOf = (svc: string) => {
      const e = containerEnv(services[svc]!, secretsDir);
      const id = s3.identities.find((i) =>
        i.credentials.some(
          (c) => c.accessKey === e.VIGIL_S3_ACCESS_KEY_ID && c.secretKey === e.VIGIL_S3_SECRET_ACCESS_KEY,
        ),
      );
      assert.ok(id, `${svc}: its S3 credentials match no identity in s3.json`);
      return id;
    };
    // The grants are the local stack's own (src/stack/seaweed.ts).
    for (const svc of ['worker-1', 'worker-2', 'gateway-1', 'gateway-2'])
      assert.deepEqual([...identityOf(svc).actions].sort(), [...WORKER_ACTIONS].sort(), svc);
    for (const svc of ['api-1', 'api-2'])
      assert.deepEqual([...identityOf(svc).actions].sort(), [...READER_ACTIONS].sort(), svc);
    assert.ok(identityOf('setup').actions.includes('Admin'), 'setup needs the admin identity to create the bucket');
    // Only setup has the admin secret, in any env file; each secret is random, not a committed default.
    const admin = s3.identities.find((i) => i.name === 'admin')!.credentials[0]!;
    for (const [name, svc] of Object.entries(services)) {
      const e = containerEnv(svc, secretsDir);
      if (name !== 'setup') assert.ok(!Object.values(e).includes(admin.secretKey), `${name} holds the S3 admin secret`);
    }
    const secrets = s3.identities.map((i) => i.credentials[0]!.secretKey);
    assert.equal(new Set(secrets).size, 3);
    for (const k of secrets) assert.match(k, /^[0-9a-f]{48}$/);
  });

  it('orders start-up with depends_on conditions backed by healthchecks', () => {
    for (const [name, svc] of Object.entries(services)) {
      if (svc.depends_on === undefined) continue;
      assert.ok(!Array.isArray(svc.depends_on), `${name}: depends_on without conditions`);
      for (const [dep, { condition }] of Object.entries(svc.depends_on)) {
        assert.ok(services[dep], `${name} depends on unknown service ${dep}`);
        assert.ok(
          condition === 'service_healthy' || condition === 'service_completed_successfully',
          `${name} → ${dep}: ${condition}`,
        );
        if (condition === 'service_healthy')
          assert.ok(
            services[dep]!.healthcheck?.test,
            `${name} waits for ${dep} to be healthy, but ${dep} has no healthcheck`,
          );
      }
    }
    for (const [name, svc] of vigil) {
      if (name === 'setup') continue;
      assert.equal(
        (svc.depends_on as Record<string, { condition: string }>).setup?.condition,
        'service_completed_successfully',
        `${name} starts before setup made the bucket and key`,
      );
    }
    const temporalCheck = argv(services.temporal!.healthcheck?.test).join(' ');
    assert.ok(
      temporalCheck.includes(`--namespace ${containerEnv(services.setup!, secretsDir).VIGIL_TEMPORAL_NAMESPACE}`),
      'temporal is healthy before the namespace setup uses exists',
    );
  });

  it('publishes ports on loopback only: nginx for the API, no replica directly, no SeaweedFS internals', () => {
    for (const [name, svc] of Object.entries(services)) {
      for (const p of svc.ports ?? []) {
        const spec = typeof p === 'string' ? p : `${p.host_ip ?? ''}:${p.published}:${p.target}`;
        assert.match(spec, /^127\.0\.0\.1:/, `${name} publishes ${spec} beyond loopback`);
      }
    }
    for (const name of ['api-1', 'api-2', 'worker-1', 'worker-2', 'setup'])
      assert.deepEqual(services[name]!.ports ?? [], [], `${name} is published past nginx`);
    assert.deepEqual(services.seaweedfs!.ports, ['127.0.0.1:8333:8333'], 'only the S3 API may be published');
  });

  it('gives every worker and API replica the one signing key setup makes, read-only to the API', () => {
    const keyDir = (name: string) => containerEnv(services[name]!, secretsDir).VIGIL_SIGNING_KEY_DIR;
    for (const name of ['setup', 'worker-1', 'worker-2', 'api-1', 'api-2']) {
      const dir = keyDir(name);
      assert.ok(dir, `${name} has no VIGIL_SIGNING_KEY_DIR`);
      const m = mounts(services[name]!).find((v) => v.target === dir);
      assert.equal(m?.source, 'signing-keys', `${name}: ${dir} is not the shared signing-keys volume`);
      assert.equal(m.readOnly, name.startsWith('api-'), `${name}: signing key mount mode`);
    }
    assert.match(read('infra/compose-setup.cjs'), /loadOrCreateDevKey\(config\.signingKeyDir\)/);
    // The named volumes' mount points exist in the image, owned by its user (a new volume copies that ownership).
    assert.match(dockerfile, /mkdir -p \/var\/lib\/vigil\/keys \/var\/lib\/vigil\/state \/var\/lib\/vigil\/wal/);
    assert.match(dockerfile, /chown -R node:node \/var\/lib\/vigil/);
  });

  it("gives the API replicas make-secrets.sh's users file by default: valid, readable by the image's user, empty", () => {
    for (const name of ['api-1', 'api-2']) {
      const m = mounts(services[name]!).find(
        (v) => v.target === containerEnv(services[name]!, secretsDir).VIGIL_USERS_FILE,
      );
      assert.equal(m?.source, './infra/compose/secrets/users.yaml', name);
    }
    const file = path.join(secretsDir, 'users.yaml');
    assert.equal(fs.statSync(file).mode & 0o777, 0o644, 'uid 1000 in the container must read it');
    assert.equal(fs.statSync(secretsDir).mode & 0o777, 0o700, 'the secrets dir keeps it from other accounts');
    assert.doesNotThrow(() => FileIdentityProvider.fromFile(file));
    assert.deepEqual((parse(fs.readFileSync(file, 'utf8')) as { users: unknown[] }).users, []);
  });

  it("issues SeaweedFS's certificate for the name its components dial (-ip=), from the CA security.toml trusts", () => {
    const ip = argv(services.seaweedfs!.command)
      .find((a) => a.startsWith('-ip='))
      ?.slice('-ip='.length);
    assert.equal(ip, 'seaweedfs');
    const certs = path.join(secretsDir, 'seaweedfs/certs');
    const cert = new X509Certificate(fs.readFileSync(path.join(certs, 'seaweedfs.crt')));
    const ca = new X509Certificate(fs.readFileSync(path.join(certs, 'ca.crt')));
    assert.equal(cert.checkHost(ip), ip, `the certificate does not name ${ip}`);
    assert.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey), 'not issued by the mounted CA');
    // Server and client use (extended key usage): the components are each other's gRPC and HTTPS clients.
    assert.deepEqual([...(cert.keyUsage ?? [])].sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    const security = fs.readFileSync(path.join(secretsDir, 'seaweedfs/security.toml'), 'utf8');
    const certsTarget = mounts(services.seaweedfs!).find(
      (m) => m.source === './infra/compose/secrets/seaweedfs/certs',
    )?.target;
    assert.equal(certsTarget, '/etc/seaweedfs/certs');
    const files = [...security.matchAll(/^(?:cert|key|ca) = "(\/[^"]+)"$/gm)].map((m) => m[1]!);
    assert.ok(files.length >= 10, 'expected the certificate paths of [grpc.*] and [https.*]');
    for (const file of files) {
      assert.ok(file.startsWith(`${certsTarget}/`), `security.toml names ${file}, outside the mounted certs`);
      assert.ok(fs.existsSync(path.join(certs, path.basename(file))), `${file} is not generated`);
    }
    assert.doesNotMatch(security, /@[A-Z0-9_]+@/, 'a placeholder was left in security.toml');
    for (const k of ['jwt.signing', 'jwt.signing.read', 'jwt.filer_signing', 'jwt.filer_signing.read'])
      assert.match(security, new RegExp(`\\[${k.replace(/\./g, '\\.')}\\]\\nkey = "[0-9a-f]{64}"`), `${k} has no key`);
  });

  it("mounts the gateways' models file and every file it names", () => {
    for (const name of ['gateway-1', 'gateway-2']) {
      const svc = services[name]!;
      const ro = mounts(svc).filter((m) => m.readOnly && m.source.startsWith('./'));
      /** The repo file a container path comes from, through a read-only mount; undefined when none holds it. */
      const hostPath = (p: string): string | undefined => {
        const m = ro.find((x) => p === x.target || p.startsWith(`${x.target}/`));
        return m ? path.join(root, m.source.slice(2), path.posix.relative(m.target, p)) : undefined;
      };
      const modelsFile = containerEnv(svc, secretsDir).VIGIL_GATEWAY_MODELS!;
      const host = hostPath(modelsFile);
      assert.ok(host && fs.existsSync(host), `${name}: ${modelsFile} is not in a read-only mount`);
      const doc = parse(fs.readFileSync(host, 'utf8')) as {
        models: Record<string, { modelCard?: string; versions: Record<string, { file?: string }> }>;
      };
      const named = Object.values(doc.models).flatMap((m) => [
        ...(m.modelCard ? [m.modelCard] : []),
        ...Object.values(m.versions).flatMap((v) => (v.file ? [v.file] : [])),
      ]);
      assert.ok(named.length >= 3);
      for (const rel of named) {
        const inContainer = path.posix.resolve(path.posix.dirname(modelsFile), rel);
        const file = hostPath(inContainer);
        assert.ok(file && fs.existsSync(file), `${name}: the models file names ${inContainer}, which no mount holds`);
      }
    }
  });

  it('trusts X-Forwarded-For only as nginx writes it: replaced by the address nginx saw, never appended to', () => {
    const conf = read('infra/compose/nginx.conf').replace(/#.*$/gm, '');
    assert.match(conf, /proxy_set_header X-Forwarded-For \$remote_addr;/);
    assert.doesNotMatch(conf, /\$proxy_add_x_forwarded_for/, 'a client could prepend an address the API would count');
    for (const name of ['api-1', 'api-2']) {
      const config = loadConfig(containerEnv(services[name]!, secretsDir));
      assert.ok(config.auth.trustedProxies?.length, `${name} counts nginx's address for every client`);
      assert.deepEqual(services[name]!.ports ?? [], [], `${name} is reachable past nginx`);
    }
  });

  it('make-secrets.sh run again rotates nothing and renders the same files', () => {
    const snapshot = (): Record<string, string> => {
      const out: Record<string, string> = {};
      const walk = (dir: string): void => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
          const p = path.join(dir, e.name);
          if (e.isDirectory()) walk(p);
          else out[path.relative(secretsDir, p)] = fs.readFileSync(p, 'utf8');
        }
      };
      walk(secretsDir);
      return out;
    };
    const first = snapshot();
    assert.ok(Object.keys(first).length >= 15);
    const again = spawnSync('bash', [path.join(root, 'infra/compose/make-secrets.sh'), secretsDir], { stdio: 'pipe' });
    assert.equal(again.status, 0, String(again.stderr));
    assert.deepEqual(snapshot(), first);
  });

  it('offers OIDC as commented settings that loadConfig accepts once uncommented (secret from api.env)', () => {
    const commented = [...read('docker-compose.yml').matchAll(/^\s*# (VIGIL_OIDC_[A-Z_]+): (.+)$/gm)].map(
      ([, k, v]) => [k!, v!.replace(/^'(.*)'$/, '$1')] as const,
    );
    const keys = commented.map(([k]) => k);
    assert.ok(keys.includes('VIGIL_OIDC_ISSUER') && keys.includes('VIGIL_OIDC_ROLE_MAP'), 'no commented OIDC block');
    for (const k of keys) assert.ok(knownVars.has(k), `${k} is not a setting src/config.ts reads`);
    const env = {
      ...containerEnv(services['api-1']!, secretsDir),
      ...Object.fromEntries(commented),
      VIGIL_OIDC_CLIENT_SECRET: 'a-client-secret-from-api-env',
    };
    const oidc = loadConfig(env).auth.oidc;
    assert.ok(oidc, 'OIDC not configured by the uncommented block');
    assert.deepEqual(Object.keys(oidc.roleMap).sort(), ['vigil-audit', 'vigil-clin', 'vigil-qa', 'vigil-reg']);
  });

  it('nginx accepts infra/compose/nginx.conf (nginx -t)', async () => {
    // Debian's nginx here is 1.22; the image's 1.28 also takes `resolve` (re-resolving the replicas' names), which
    // 1.22 does not know: that word is dropped for the check. Only what a container gives differently is mapped:
    // replica names → loopback, the listen port → a free one, logs, pid and temp files → a temp dir.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-compose-nginx-'));
    try {
      const port = await freePort();
      const conf = read('infra/compose/nginx.conf')
        .replace(/ resolve /g, ' ')
        .replace(/server api-\d+:/g, 'server 127.0.0.1:')
        .replace(/^pid .*$/m, `pid ${dir}/nginx.pid;`)
        .replace(/^error_log .*$/m, `error_log ${dir}/error.log warn;`)
        .replace(/access_log \/dev\/stdout;/, `access_log ${dir}/access.log;`)
        .replace(/listen 80;/, `listen 127.0.0.1:${port};`)
        .replace(
          /^http \{/m,
          `http {\n  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; ` +
            `uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;`,
        );
      fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
      const r = spawnSync(
        nginxBinary(),
        ['-t', '-c', path.join(dir, 'nginx.conf'), '-p', dir, '-e', `${dir}/error.log`],
        {
          encoding: 'utf8',
        },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /test is successful/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads every env file from the secrets make-secrets.sh generates, and mounts only files it makes', () => {
    for (const [name, svc] of Object.entries(services)) {
      for (const f of envFiles(svc))
        assert.ok(fs.existsSync(path.join(secretsDir, f.slice('infra/compose/secrets'.length))), `${name}: ${f}`);
      for (const m of mounts(svc)) {
        if (!m.source.startsWith('./')) continue;
        const rel = m.source.slice(2);
        const where = rel.startsWith('infra/compose/secrets/')
          ? path.join(secretsDir, rel.slice('infra/compose/secrets/'.length))
          : path.join(root, rel);
        assert.ok(fs.existsSync(where), `${name} mounts ${m.source}, which is not there`);
      }
    }
    assert.match(read('.gitignore'), /^infra\/compose\/secrets\/$/m, 'the secrets dir is not git-ignored');
  });
});

describe('Dockerfile', () => {
  it('COPYs only files and directories that exist', () => {
    assert.ok(copies.length > 0);
    for (const { sources } of copies) {
      for (const src of sources) assert.ok(exists(src), `Dockerfile COPYs ${src}, which does not exist`);
    }
    for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) {
      assert.ok(
        copies.some(({ sources }) => sources.includes(f)),
        `Dockerfile does not COPY ${f}`,
      );
    }
  });

  it('installs from the lockfile, runs as non-root, and ships production dependencies only', () => {
    const stages = dockerfile.split(/^FROM\s/m).slice(1);
    assert.ok(stages.length >= 2, 'expected a multi-stage build');
    for (const stage of stages) assert.match(stage, /npm ci\b/);
    const runtime = stages[stages.length - 1]!;
    assert.match(runtime, /npm ci[^\n]*--omit=dev/);
    assert.match(runtime, /^USER\s+(?!root\b|0\b)\S+/m);
    assert.match(runtime, /^COPY --from=\S+ \/app\/dist \.\/dist$/m);
  });

  it('pins its base images', () => {
    const bases = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]!);
    for (const base of bases) assert.match(base, /^[^:]+:\d[^:]*$/, `base image ${base} is not pinned to a version`);
  });

  it('keeps local state and secrets out of the build context', () => {
    const ignored = read('.dockerignore')
      .split(/\r?\n/)
      .map((l) => l.trim());
    for (const p of ['node_modules', 'dist', '.tools', '.vigil', '.env', '.git'])
      assert.ok(ignored.includes(p), `.dockerignore misses ${p}`);
  });
});
