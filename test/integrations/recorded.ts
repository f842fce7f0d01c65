/**
 * Reading what one flow recorded: capture the head of the log before the flow (`mark`), then
 * `eventsSince` gives exactly the flow's events, in order, so a test asserts the whole sequence.
 */
import type { AnyEnvelope, Authbus } from "../../src/index.js";

/** Every event of the bus's app with a seq after `seq`, in seq order. */
export async function eventsSince(bus: Authbus, seq: number): Promise<AnyEnvelope[]> {
  const out: AnyEnvelope[] = [];
  for (;;) {
    const page = (await bus.query({ after_seq: seq, limit: 1000 })) as AnyEnvelope[];
    out.push(...page);
    if (page.length < 1000) return out;
    seq = page[page.length - 1]!.seq;
  }
}

/** The seq of the last event recorded so far (0 for an empty log): what `eventsSince` starts from. */
export async function mark(bus: Authbus): Promise<number> {
  return (await eventsSince(bus, 0)).at(-1)?.seq ?? 0;
}

/** The types of the events after `seq`. */
export async function typesSince(bus: Authbus, seq: number): Promise<string[]> {
  return (await eventsSince(bus, seq)).map((e) => e.type);
}

/** A recorded event's payload, loosely typed for field assertions. */
export function payloadOf(event: AnyEnvelope | undefined): Record<string, any> {
  return (event?.payload ?? {}) as Record<string, any>;
}
