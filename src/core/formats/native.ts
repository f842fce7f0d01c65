/**
 * The `native` rendering (SPEC §2): the recorded envelope as JSON, nothing added or renamed.
 */
import type { Envelope } from "../envelope.js";

export interface NativeRendering {
  contentType: "application/json";
  body: string;
}

/** JSON text of payload and context as stored, for envelopes a store read for rendering only (EventQuery.forRendering). */
const storedJson = new WeakMap<Envelope, { payload: string; context: string }>();

/**
 * Remembers the JSON text `envelope`'s payload and context were parsed from. That text was written
 * by JSON.stringify at emit, and JSON.stringify(JSON.parse(t)) === t for such text, so splicing it
 * gives the same body. Only for envelopes no one can modify before they are rendered: a changed
 * object would still render as stored.
 */
export function keepStoredJson<E extends Envelope>(envelope: E, payload: string, context: string): E {
  storedJson.set(envelope, { payload, context });
  return envelope;
}

export function renderNative(envelope: Envelope): NativeRendering {
  // Rebuilt rather than stringified as is: the key order is part of the documented output,
  // and an envelope object assembled elsewhere (store row, spread) may carry another order.
  const { id, seq, subject_seq, type } = envelope;
  const stored = storedJson.get(envelope);
  if (stored) {
    // Webhook delivery renders every event once per subscription: this saves serialising the objects again.
    const head = `{"id":${JSON.stringify(id)},"seq":${JSON.stringify(seq)},"subject_seq":${JSON.stringify(subject_seq)},"type":${JSON.stringify(type)}`;
    return { contentType: "application/json", body: `${head},"payload":${stored.payload},"context":${stored.context}}` };
  }
  return {
    contentType: "application/json",
    body: JSON.stringify({ id, seq, subject_seq, type, payload: envelope.payload, context: envelope.context }),
  };
}
