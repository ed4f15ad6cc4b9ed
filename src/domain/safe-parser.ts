/**
 * What a zod schema offers to a caller that only validates (`schema.safeParse`), typed structurally so the
 * workflow and CLI layers can take any schema without importing zod.
 */
export type SafeParser<T> = {
  safeParse(
    v: unknown,
  ):
    { success: true; data: T } | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } };
};
