import fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { RoleSchema, type Role } from '../domain/policy';
import { burnPasswordCheck, isPasswordHash, verifyPassword } from './passwords';

/** Signing roles (qa, clinical, regulatory) plus `auditor`: read-only access to every release's timeline. */
export const UserRoleSchema = z.union([RoleSchema, z.literal('auditor')]);
export type UserRole = z.infer<typeof UserRoleSchema>;

/** Who is acting: what a session carries and what becomes the signer of an e-signature. */
export interface Identity {
  id: string;
  /** Printed name, as it appears in the signature manifestation (21 CFR 11.50). */
  name: string;
  roles: UserRole[];
  /** IANA time zone the signer works in (users file `timeZone`); signatures show their time there and in UTC. */
  timeZone?: string;
  /**
   * Who this person is at the OpenID provider (OIDC sign-in only): the issuer and subject a re-authentication at
   * signing must match. Kept in the session's identity snapshot, so every API replica knows it.
   */
  provider?: { issuer: string; subject: string };
}

/**
 * Where identities come from. The users file implements it locally; an OIDC provider would implement
 * `authenticate` with a token exchange and still re-authenticate signers (prompt=login, max_age=0).
 */
export interface IdentityProvider {
  /** The identity for these credentials, or null (unknown user and wrong password look the same). */
  authenticate(username: string, password: string): Promise<Identity | null>;
  /** Current identity for a user id (roles may have changed since login); null if removed or disabled. */
  lookup(id: string): Identity | null;
  /** The defined signature meanings for a role (src/auth/meanings.ts); absent: the defaults. */
  signatureMeanings?(role: Role): readonly string[];
  /**
   * Set when people sign in at an OpenID provider (src/auth/oidc), naming it: the UI then sends them there to sign
   * in and to re-authenticate at each signature, instead of asking for a password.
   */
  readonly signInWith?: string;
}

const UserEntrySchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lowercase letters, digits, ".", "_" or "-"'),
  name: z.string().min(1).max(200),
  roles: z.array(UserRoleSchema).min(1),
  passwordHash: z
    .string()
    .refine(
      isPasswordHash,
      'must be a scrypt hash (scrypt$N$r$p$salt$hash; make one with `npx tsx src/auth/hash-cli.ts`)',
    ),
  disabled: z.boolean().default(false),
  timeZone: z.string().refine(isTimeZone, 'an IANA time zone such as Europe/Berlin').optional(),
});

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Per role, the meanings a signature may carry (e.g. qa: [reviewed, approved]); absent roles get the defaults. */
const MeaningsSchema = z
  .object(
    Object.fromEntries(
      RoleSchema.options.map((r) => [r, z.array(z.string().min(3).max(200)).min(1).max(20).optional()]),
    ) as Record<Role, z.ZodOptional<z.ZodArray<z.ZodString>>>,
  )
  .strict();
export const UsersFileSchema = z
  .object({ users: z.array(UserEntrySchema), meanings: MeaningsSchema.optional() })
  .superRefine((f, ctx) => {
    const seen = new Set<string>();
    f.users.forEach((u, i) => {
      if (seen.has(u.id)) ctx.addIssue({ code: 'custom', path: ['users', i, 'id'], message: `duplicate user ${u.id}` });
      seen.add(u.id);
    });
  });
export type UsersFile = z.infer<typeof UsersFileSchema>;

export class UsersFileError extends Error {
  override name = 'UsersFileError';
}

/** The local default: a YAML file of users, roles and scrypt hashes, read once at start. */
export class FileIdentityProvider implements IdentityProvider {
  private readonly byId: Map<string, UsersFile['users'][number]>;
  private readonly meanings: UsersFile['meanings'];

  constructor(file: UsersFile) {
    this.byId = new Map(file.users.map((u) => [u.id, u]));
    this.meanings = file.meanings;
  }

  signatureMeanings(role: Role): readonly string[] {
    return this.meanings?.[role] ?? [];
  }

  static fromYaml(text: string, source = 'users file'): FileIdentityProvider {
    let raw: unknown;
    try {
      raw = parseYaml(text);
    } catch (err) {
      throw new UsersFileError(`${source}: not YAML: ${(err as Error).message}`);
    }
    const parsed = UsersFileSchema.safeParse(raw);
    if (!parsed.success) {
      const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
      throw new UsersFileError(`${source} is invalid:\n${lines.join('\n')}`);
    }
    return new FileIdentityProvider(parsed.data);
  }

  static fromFile(path: string): FileIdentityProvider {
    return FileIdentityProvider.fromYaml(fs.readFileSync(path, 'utf8'), path);
  }

  async authenticate(username: string, password: string): Promise<Identity | null> {
    const u = this.byId.get(username);
    if (!u || u.disabled) {
      await burnPasswordCheck(password);
      return null;
    }
    return (await verifyPassword(password, u.passwordHash)) ? toIdentity(u) : null;
  }

  lookup(id: string): Identity | null {
    const u = this.byId.get(id);
    return u && !u.disabled ? toIdentity(u) : null;
  }
}

function toIdentity(u: UsersFile['users'][number]): Identity {
  return { id: u.id, name: u.name, roles: [...u.roles], ...(u.timeZone ? { timeZone: u.timeZone } : {}) };
}

/** No users configured: nobody can log in (the UI says so). */
export const NO_USERS: IdentityProvider = {
  authenticate: async (_u, password) => {
    await burnPasswordCheck(password);
    return null;
  },
  lookup: () => null,
};
