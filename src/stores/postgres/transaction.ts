import type pg from "pg";
import { TransactionRequiredError } from "../../core/errors.js";
import type { TransactionHandle } from "../../core/ports/store.js";

export const PG_TX = "pg";

/**
 * Wraps the caller's `pg` client so `emit(..., { tx: fromPg(client) })` writes the event inside the
 * caller's open transaction: the operation and its event commit or roll back together (outbox).
 * Call it between `BEGIN` and `COMMIT` on that client, and await the emit before committing.
 *
 * While that transaction is open it holds the app's seq counter (see docs/architecture.md), so other
 * emits of the app wait for its COMMIT: keep such transactions short, and never await a plain
 * (non-`tx`) emit of the same app inside one, which would wait for itself.
 */
export function fromPg(client: pg.ClientBase): TransactionHandle {
  if (!client || typeof (client as { query?: unknown }).query !== "function") throw new TypeError("fromPg(client): expected a pg Client or PoolClient");
  return Object.freeze({ kind: PG_TX, connection: client });
}

/** Checks that the handle is a pg client inside an open, healthy transaction. */
export async function openTransactionOf(tx: TransactionHandle): Promise<pg.ClientBase> {
  if (tx.kind !== PG_TX) throw new TransactionRequiredError(`A ${tx.kind} transaction cannot be used with the PostgreSQL store; use fromPg(client)`);
  const client = tx.connection as pg.ClientBase;
  const status = typeof client.getTransactionStatus === "function" ? client.getTransactionStatus() : await probe(client);
  if (status === "E") throw new TransactionRequiredError("fromPg(client): the transaction has already failed; roll it back");
  if (status !== "T") throw new TransactionRequiredError("fromPg(client): the client has no open transaction; call emit between BEGIN and COMMIT");
  return client;
}

/** For pg versions without getTransactionStatus(): SAVEPOINT fails outside a transaction block. */
async function probe(client: pg.ClientBase): Promise<"T" | "I"> {
  try {
    await client.query("SAVEPOINT authbus_probe");
    await client.query("RELEASE SAVEPOINT authbus_probe");
    return "T";
  } catch {
    return "I";
  }
}
