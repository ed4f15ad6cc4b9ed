import fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { RoleSchema } from '../domain/policy';
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
});
export const UsersFileSchema = z.object({ users: z.array(UserEntrySchema) }).superRefine((f, ctx) => {
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

  constructor(file: UsersFile) {
    this.byId = new Map(file.users.map((u) => [u.id, u]));
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
  return { id: u.id, name: u.name, roles: [...u.roles] };
}

/** No users configured: nobody can log in (the UI says so). */
export const NO_USERS: IdentityProvider = {
  authenticate: async (_u, password) => {
    await burnPasswordCheck(password);
    return null;
  },
  lookup: () => null,
};
