/**
 * The store conformance suite: the behaviour every store adapter must have, written once and run
 * against each adapter on a real database (SQLite on a temp file, PostgreSQL on a fresh schema).
 * A store passes when it behaves exactly as the others do; the bus, the delivery engine and the
 * server depend on nothing else.
 *
 * ```ts
 * describeStoreConformance("my store", async () => {
 *   const store = await openMyStore();
 *   return { store, cleanup: () => dropMyDatabase() };
 * });
 * ```
 *
 * It uses vitest's `describe`/`it`, so import it from a vitest test file.
 */
import { describe } from "vitest";
import type { DecisionStore } from "../core/ports/decisions.js";
import type { DeliveryStore } from "../core/ports/deliveries.js";
import type { EventStore, TransactionHandle } from "../core/ports/store.js";
import type { TenancyStore } from "../core/ports/tenancy.js";
import { describeDecisionStore } from "./conformance/decisions.js";
import { describeDeliveryStore } from "./conformance/deliveries.js";
import { describeEventStore } from "./conformance/events.js";
import { describeTenancyStore } from "./conformance/tenancy.js";

export interface ConformanceStore extends EventStore {
  readonly deliveries: DeliveryStore;
  readonly decisions: DecisionStore;
  /** Checked when present. */
  readonly tenancy?: TenancyStore;
}

/** A transaction opened by the test on the adapter's own driver, for the outbox contract. */
export interface ConformanceTransaction {
  readonly handle: TransactionHandle;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

export interface ConformanceFixture {
  store: ConformanceStore;
  /** Closes the store and removes its database (file, schema ...). */
  cleanup: () => Promise<void>;
  /** Opens a transaction on a connection of the caller's own (outbox pattern); the outbox contract is checked when given. */
  beginTransaction?: () => Promise<ConformanceTransaction>;
}

export type MakeStore = () => Promise<ConformanceFixture>;

/** Registers the whole suite under `describe(name)`. Every test gets a fresh store from `makeStore`. */
export function describeStoreConformance(name: string, makeStore: MakeStore): void {
  describe(`store conformance: ${name}`, () => {
    describeEventStore(makeStore);
    describeDeliveryStore(makeStore);
    describeDecisionStore(makeStore);
    describeTenancyStore(makeStore);
  });
}
