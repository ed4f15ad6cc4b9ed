import { z } from 'zod';
import { AcceptancePolicySchema } from './policy';

/** JSON Schema (draft 2020-12) of the acceptance policy as authors write it (defaults optional), for editors. */
export function acceptancePolicyJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(AcceptancePolicySchema, { io: 'input', unrepresentable: 'any' }),
    title: 'Vigil acceptance policy',
  } as Record<string, unknown>;
}
