/**
 * The `native` rendering (SPEC §2): the recorded envelope as JSON, nothing added or renamed.
 */
import type { Envelope } from "../envelope.js";

export interface NativeRendering {
  contentType: "application/json";
  body: string;
}

export function renderNative(envelope: Envelope): NativeRendering {
  // Rebuilt rather than stringified as is: the key order is part of the documented output,
  // and an envelope object assembled elsewhere (store row, spread) may carry another order.
  const { id, seq, subject_seq, type, payload, context } = envelope;
  return {
    contentType: "application/json",
    body: JSON.stringify({ id, seq, subject_seq, type, payload, context }),
  };
}
