/**
 * What a blocking hook answers (SPEC §3, Authgear's hook response), and which mutations each
 * blocking type accepts. An answer that breaks the schema is an error, never ignored: an unknown
 * key may be a typo of a mutation the hook author believes was applied.
 */
import { Type, type Static } from "@sinclair/typebox";
import type { BlockingEventType } from "../catalog/catalog.js";
import { CustomAttributes, JwtPayload, StandardAttributes, type StandardAttributesT } from "../catalog/shapes.js";
import type { ValidationIssue } from "../errors.js";
import { assertJsonValue, schemaIssues } from "../validate.js";

const UserMutations = Type.Object(
  { standard_attributes: Type.Optional(StandardAttributes), custom_attributes: Type.Optional(CustomAttributes) },
  { additionalProperties: false, description: "Replaces the named objects of `user` as a whole." },
);
const JwtMutations = Type.Object({ payload: JwtPayload }, { additionalProperties: false, description: "Replaces `jwt.payload`; reserved claims keep their values." });

export const HookResponseSchema = Type.Object(
  {
    is_allowed: Type.Boolean({ description: "false stops the chain and denies the operation." }),
    title: Type.Optional(Type.String({ description: "Short text for the end user when denied." })),
    reason: Type.Optional(Type.String({ description: "Longer explanation for the end user when denied." })),
    mutations: Type.Optional(
      Type.Object({ user: Type.Optional(UserMutations), jwt: Type.Optional(JwtMutations) }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false, description: "A blocking hook's answer." },
);

export type UserMutationsT = { standard_attributes?: StandardAttributesT; custom_attributes?: Record<string, unknown> };
export type JwtMutationsT = { payload: Record<string, unknown> };
type AnyMutations = Static<typeof HookResponseSchema>["mutations"];

/** The mutations a type accepts; `never` where none are (a compile error instead of a runtime deny). */
export type MutationsFor<T extends BlockingEventType> = T extends "oidc.jwt.pre_create"
  ? { jwt?: JwtMutationsT }
  : T extends "user.pre_create" | "user.profile.pre_update"
    ? { user?: UserMutationsT }
    : never;

export interface HookResponse<T extends BlockingEventType = BlockingEventType> {
  is_allowed: boolean;
  title?: string;
  reason?: string;
  mutations?: MutationsFor<T>;
}

/**
 * Which objects each blocking type lets hooks replace. Authgear allows mutations only where the
 * operation still uses the data: a user being created or updated, a token being issued. Deletion
 * and anonymisation are decided on the user as stored; changing it there would be meaningless.
 */
export const MUTATION_RULES: Readonly<Record<BlockingEventType, { readonly user: boolean; readonly jwt: boolean }>> = Object.freeze({
  "user.pre_create": { user: true, jwt: false },
  "user.profile.pre_update": { user: true, jwt: false },
  "user.pre_schedule_deletion": { user: false, jwt: false },
  "user.pre_schedule_anonymization": { user: false, jwt: false },
  "oidc.jwt.pre_create": { user: false, jwt: true },
});

export interface ParsedResponse {
  is_allowed: boolean;
  title?: string;
  reason?: string;
  mutations?: NonNullable<AnyMutations>;
}

export type ParseResult = { ok: true; response: ParsedResponse } | { ok: false; issues: ValidationIssue[] };

/**
 * Checks an answer against the schema and the type's mutation rules. `raw` must already be a
 * private JSON copy (parsed from HTTP, or round-tripped from an in-process hook).
 */
export function parseHookResponse(type: BlockingEventType, raw: unknown): ParseResult {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { ok: false, issues: [{ pointer: "", message: "the answer must be a JSON object like {\"is_allowed\": true}" }] };
  }
  const issues = schemaIssues("$hook-response", HookResponseSchema, raw, "");
  if (issues.length > 0) return { ok: false, issues };
  const response = raw as ParsedResponse;
  const rules = MUTATION_RULES[type];
  const m = response.mutations;
  if (m?.user !== undefined && !rules.user) issues.push({ pointer: "/mutations/user", message: `${type} does not allow user mutations` });
  if (m?.jwt !== undefined && !rules.jwt) issues.push({ pointer: "/mutations/jwt", message: `${type} does not allow jwt mutations` });
  return issues.length > 0 ? { ok: false, issues } : { ok: true, response };
}

/**
 * An in-process answer as JSON would carry it: a private copy, so the hook cannot change it after
 * answering, and with values JSON cannot represent (functions, Dates, NaN...) refused rather than
 * silently rewritten by JSON.stringify.
 */
export function jsonCopyOfAnswer(answer: unknown): { ok: true; value: unknown } | { ok: false; issues: ValidationIssue[] } {
  if (answer === undefined) return { ok: false, issues: [{ pointer: "", message: "the hook returned nothing; return { is_allowed: true } to allow" }] };
  try {
    assertJsonValue(answer);
  } catch (e) {
    return { ok: false, issues: [{ pointer: (e as { pointer?: string }).pointer ?? "", message: (e as Error).message }] };
  }
  return { ok: true, value: JSON.parse(JSON.stringify(answer)) };
}

export function formatResponseIssues(issues: readonly ValidationIssue[]): string {
  const shown = issues.slice(0, 5).map((i) => `${i.pointer || "/"}: ${i.message}`);
  return `invalid hook answer: ${shown.join("; ")}${issues.length > 5 ? ` (+${issues.length - 5} more)` : ""}`;
}
