/** The event catalog with each type's JSON Schema (draft 2020-12). */
import { describeCatalog, isEventType } from "../../core/catalog/catalog.js";
import { NotFoundError } from "../../core/errors.js";
import { defineRoutes } from "../route-table.js";
import { CatalogEntry, page } from "../schemas.js";

// The catalog is fixed for the life of the process: rendered once, not on every request.
let rendered: { all: string; byType: Map<string, string> } | undefined;
function catalog() {
  if (!rendered) {
    const entries = describeCatalog();
    rendered = { all: JSON.stringify({ data: entries, next_cursor: null }), byType: new Map(entries.map((e) => [e.type, JSON.stringify(e)])) };
  }
  return rendered;
}
const jsonText = (text: string) => new Response(text, { status: 200, headers: { "content-type": "application/json; charset=utf-8" } });

export const catalogRoutes = defineRoutes([
  {
    method: "GET",
    path: "/v1/catalog",
    operationId: "listCatalog",
    summary: "Every event type: type, kind (blocking or non_blocking), description and payload schema.",
    tag: "catalog",
    access: "read",
    responses: { 200: { description: "The whole catalog in one page.", schema: page(CatalogEntry) } },
    handle: () => jsonText(catalog().all),
  },
  {
    method: "GET",
    path: "/v1/catalog/{type}",
    operationId: "getCatalogEntry",
    summary: "One event type.",
    tag: "catalog",
    access: "read",
    responses: { 200: { description: "The type's entry.", schema: CatalogEntry } },
    handle({ params }) {
      const type = params.type!;
      if (!isEventType(type)) throw new NotFoundError("event type", type);
      return jsonText(catalog().byType.get(type)!);
    },
  },
]);
