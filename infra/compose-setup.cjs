// One-shot setup for docker-compose (service `setup`), run in the vigil image:
//   node infra/compose-setup.cjs
// 1. registers Vigil's search attributes (Keyword) in the Temporal namespace;
// 2. creates the evidence bucket with Object Lock (or checks an existing one has it) and its deny policy;
// 3. makes the system signing key (DSSE on signature records) in VIGIL_SIGNING_KEY_DIR, the volume every worker
//    and API replica mounts, so they all sign and verify with one key.
// Idempotent, so it runs on every `docker compose up`.
//
// Plain CommonJS over the compiled dist/ because src/ has no setup entry point yet and the runtime
// image carries no TypeScript toolchain. The search attribute names and the bucket logic come from
// dist/, so they cannot drift from what the worker and the local stack use.
// Configuration is src/config.ts's: for this service only, VIGIL_S3_ACCESS_KEY_ID/SECRET are the
// S3 *admin* identity (creating an Object Lock bucket needs it); the worker and API get the
// non-admin `vigil` identity.
'use strict';

const { Connection } = require('@temporalio/client');
const { loadOrCreateDevKey } = require('../dist/attestation/dev-key');
const { loadConfig } = require('../dist/config');
const { SEARCH_ATTRIBUTE_NAMES } = require('../dist/domain/messages');
const { createS3Client } = require('../dist/evidence/s3-client');
const { createLogger } = require('../dist/logging/logger');
const { ensureEvidenceBucket } = require('../dist/stack/seaweed');

/** temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD */
const INDEXED_VALUE_TYPE_KEYWORD = 2;

async function registerSearchAttributes(connection, namespace, log) {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const existing = customAttributes ?? {};
  const wrongType = SEARCH_ATTRIBUTE_NAMES.filter(
    (name) => name in existing && existing[name] !== INDEXED_VALUE_TYPE_KEYWORD,
  );
  if (wrongType.length > 0) {
    throw new Error(`search attributes exist with a type other than Keyword: ${wrongType.join(', ')}`);
  }
  const missing = SEARCH_ATTRIBUTE_NAMES.filter((name) => !(name in existing));
  if (missing.length > 0) {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((name) => [name, INDEXED_VALUE_TYPE_KEYWORD])),
    });
  }
  log.info({ namespace, added: missing, present: SEARCH_ATTRIBUTE_NAMES }, 'search attributes registered');
}

async function main() {
  const config = loadConfig();
  const log = createLogger('vigil-setup', config.logLevel);

  const connection = await Connection.connect({ address: config.temporal.address });
  try {
    await registerSearchAttributes(connection, config.temporal.namespace, log);
  } finally {
    await connection.close();
  }

  const s3 = createS3Client(config.s3);
  try {
    await ensureEvidenceBucket(s3, config.s3.bucket, log);
  } finally {
    s3.destroy();
  }
  log.info({ bucket: config.s3.bucket, retention: config.retention }, 'evidence bucket ready (Object Lock)');

  const key = loadOrCreateDevKey(config.signingKeyDir);
  log.info({ file: key.file, created: key.created }, 'signing key ready');
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
