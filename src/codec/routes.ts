import crypto from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { z } from 'zod';
import { PayloadCodecError } from './aes-gcm-codec';

/** Temporal's codec server protocol: proto3 JSON, so every bytes field (data, metadata values) is base64. */
const PayloadsBody = z.object({
  payloads: z
    .array(z.object({ metadata: z.record(z.string(), z.string()).optional(), data: z.string().optional() }))
    .max(10_000),
});
type JsonPayload = z.infer<typeof PayloadsBody>['payloads'][number];

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

export interface CodecRoutesOptions {
  /** Browser origins allowed to call (the Temporal Web UI, e.g. http://localhost:8233). */
  origins: string[];
  /** When set, callers must send `Authorization: Bearer <token>`. */
  token?: string | undefined;
}

/** POST /encode and /decode (also under /:namespace/) for the Temporal Web UI and CLI. */
export function createCodecRoutes(codec: PayloadCodec, opts: CodecRoutesOptions): Hono {
  const app = new Hono();
  app.use(
    '*',
    cors({
      origin: opts.origins,
      allowMethods: ['POST', 'OPTIONS'],
      allowHeaders: ['Content-Type', 'X-Namespace', 'Authorization'],
      credentials: true,
      maxAge: 600,
    }),
  );
  const expected = opts.token ? crypto.createHash('sha256').update(`Bearer ${opts.token}`).digest() : null;
  const handle = (op: 'encode' | 'decode') =>
    app.post(`/${op}`, async (c) => {
      if (expected) {
        const got = crypto
          .createHash('sha256')
          .update(c.req.header('authorization') ?? '')
          .digest();
        if (!crypto.timingSafeEqual(got, expected)) return c.json({ error: 'missing or invalid bearer token' }, 401);
      }
      const parsed = PayloadsBody.safeParse(await c.req.json().catch(() => null));
      if (!parsed.success)
        return c.json({ error: 'expected JSON {"payloads":[{"metadata":{…},"data":"<base64>"}]}' }, 400);
      try {
        const out = await codec[op](parsed.data.payloads.map(fromJson));
        return c.json({ payloads: out.map(toJson) });
      } catch (e) {
        if (e instanceof PayloadCodecError) return c.json({ error: e.message }, 400);
        throw e;
      }
    });
  handle('encode');
  handle('decode');
  // The CLI templates the namespace into the endpoint (`--codec-endpoint http://host/codec/{namespace}`).
  app.post('/:namespace/:op{encode|decode}', (c) =>
    app.fetch(new Request(new URL(`/${c.req.param('op')}`, c.req.url), c.req.raw)),
  );
  return app;
}
