/** API keys of the caller's app: created (the value shown once), listed without values, revoked. */
import { defineRoutes, json, noContent } from "../route-table.js";
import { limitOf } from "../paging.js";
import { CreatedKey, Key, KeyInput, page, PageQuery } from "../schemas.js";
import type { KeyScope } from "../../core/ports/tenancy.js";

export const keyRoutes = defineRoutes([
  {
    method: "POST",
    path: "/v1/keys",
    operationId: "createKey",
    summary: "Create a key for this app; the answer is the only place its value ever appears.",
    tag: "keys",
    access: "admin",
    body: { schema: KeyInput, required: true },
    responses: { 201: { description: "The new key.", schema: CreatedKey } },
    async handle({ runtime, principal, body }) {
      const b = body as { scope: KeyScope; name?: string };
      const k = await runtime.keys.create(principal.app_id, b.scope, b.name ?? null);
      return json({ id: k.id, key: k.key, scope: k.scope, name: k.name, prefix: k.prefix, created_at: k.created_at }, 201);
    },
  },
  {
    method: "GET",
    path: "/v1/keys",
    operationId: "listKeys",
    summary: "This app's keys (never their values), revoked ones included.",
    tag: "keys",
    access: "admin",
    query: PageQuery,
    responses: { 200: { description: "A page of keys.", schema: page(Key) } },
    async handle({ runtime, principal, query }) {
      return json(await runtime.keys.list(principal.app_id, { cursor: query.cursor, limit: limitOf(query) }));
    },
  },
  {
    method: "DELETE",
    path: "/v1/keys/{id}",
    operationId: "revokeKey",
    summary: "Revoke a key: refused from the next request on.",
    tag: "keys",
    access: "admin",
    responses: { 204: { description: "Revoked." } },
    async handle({ runtime, principal, params }) {
      await runtime.keys.revoke(principal.app_id, params.id!);
      return noContent();
    },
  },
]);
