import type { Static } from "@sinclair/typebox";
import { CATALOG, type EventDefinition, type EventKind } from "./definitions.js";

export type Catalog = typeof CATALOG;
/** Every event type name in the catalog. */
export type EventType = keyof Catalog & string;
export type BlockingEventType = { [K in EventType]: Catalog[K]["kind"] extends "blocking" ? K : never }[EventType];
export type NonBlockingEventType = Exclude<EventType, BlockingEventType>;
/** The payload type of an event type, inferred from its schema. */
export type PayloadOf<T extends EventType> = Static<Catalog[T]["payload"]>;

export const EVENT_TYPES = Object.freeze(Object.keys(CATALOG) as EventType[]);

export function isEventType(type: string): type is EventType {
  return Object.prototype.hasOwnProperty.call(CATALOG, type);
}

export function isBlockingType(type: string): type is BlockingEventType {
  return isEventType(type) && CATALOG[type].kind === "blocking";
}

export function getEventDefinition(type: EventType): EventDefinition {
  return CATALOG[type];
}

export interface CatalogEntry {
  readonly type: EventType;
  readonly kind: EventKind;
  readonly description: string;
  /** JSON Schema (draft 2020-12) of the payload. */
  readonly schema: Record<string, unknown>;
}

export const JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema";

/** The published JSON Schema of a type's payload: plain JSON, TypeBox's symbols stripped. */
export function payloadJsonSchema(type: EventType, idBase = "urn:authbus:catalog:"): Record<string, unknown> {
  const def = CATALOG[type];
  const plain = JSON.parse(JSON.stringify(def.payload)) as Record<string, unknown>;
  return { $schema: JSON_SCHEMA_DIALECT, $id: `${idBase}${type}`, title: type, description: def.description, ...withoutKeys(plain, ["description"]) };
}

export function describeCatalog(idBase?: string): CatalogEntry[] {
  return EVENT_TYPES.map((type) => ({
    type,
    kind: CATALOG[type].kind,
    description: CATALOG[type].description,
    schema: payloadJsonSchema(type, idBase),
  }));
}

function withoutKeys(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out = { ...o };
  for (const k of keys) delete out[k];
  return out;
}
