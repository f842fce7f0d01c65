import { StoreError, TransactionRequiredError } from "../../core/errors.js";
import type { DecisionStore } from "../../core/ports/decisions.js";
import type { DeliveryStore } from "../../core/ports/deliveries.js";
import type { AppendInput, AppendResult, EventStore, TransactionHandle } from "../../core/ports/store.js";
import type { TenancyStore } from "../../core/ports/tenancy.js";
import { appendCalls } from "./append.js";
import { clientConfig, createPgDb, createPool, isTransient, quoteSchema, sqlOn, sqlState, toStoreError, type Patience, type PoolOptions } from "./connection.js";
import { createPgDecisionStore } from "./decisions.js";
import { createPgDeliveryStore } from "./delivery-store.js";
import { EVENT_COLUMNS, eventQuerySql, toEnvelope, type EventRow } from "./event-query.js";
import { GroupCommit } from "./group-commit.js";
import { migrate } from "./migrate.js";
import { Notifier } from "./notifier.js";
import { createPgTenancyStore } from "./tenancy-store.js";
import { openTransactionOf } from "./transaction.js";

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:5432/database` (anything `pg` accepts). */
  connectionString: string;
  /** Schema holding Authbus's tables, created when missing. Default `authbus`. */
  schema?: string;
  /** Connections in the pool. Default 10. */
  poolSize?: number;
  /** Default 10 s. */
  connectTimeoutMs?: number;
  /**
   * How long an operation waits for a lost server (restart, failover, network) to come back before it
   * fails with store_failed. Default 30 s. Appends wait and are retried without ever being recorded
   * twice; reads are retried; other writes wait for a connection but fail if it breaks mid-statement.
   */
  reconnectTimeoutMs?: number;
  /** Background failures (a broken idle connection, the LISTEN connection lost); the store recovers by itself. */
  onError?: (error: Error) => void;
}

export interface PostgresStore extends EventStore {
  readonly kind: "postgres";
  readonly schema: string;
  readonly decisions: DecisionStore;
  readonly deliveries: DeliveryStore;
  readonly tenancy: TenancyStore;
  /**
   * Resolves once connected and migrated; waits up to `reconnectTimeoutMs` for an unreachable server,
   * then rejects with StoreError (the next operation tries again). Every operation waits for it.
   */
  ready(): Promise<void>;
  /** Throws StoreError at once when the database cannot be reached or is not migrated yet (readiness): it never waits for a lost server. */
  ping(): Promise<void>;
}

/**
 * The PostgreSQL store: the same behaviour as the SQLite store (one conformance suite runs on both),
 * for several processes sharing one database. Returns at once; connecting and migrating happen in
 * the background, under an advisory lock.
 */
export function createPostgresStore(options: PostgresStoreOptions): PostgresStore {
  const schema = options.schema ?? "authbus";
  const s = quoteSchema(schema);
  // Nothing to report to by default: each of these is retried, and operations fail loudly meanwhile.
  const onError = options.onError ?? (() => undefined);
  const poolOptions: PoolOptions = { connectionString: options.connectionString, max: options.poolSize ?? 10, connectTimeoutMs: options.connectTimeoutMs ?? 10_000, onError };
  const pool = createPool(poolOptions);
  let closed = false;
  let poolEnded = false;
  const patience: Patience = { timeoutMs: options.reconnectTimeoutMs ?? 30_000, stopped: () => poolEnded };
  let database = "";
  let open = false;
  const openSchema = () => {
    const p = migrate(pool, schema, s, patience).then(async () => {
      database = (await pool.query<{ db: string }>("SELECT current_database() AS db")).rows[0]!.db;
      open = true;
    });
    p.catch(() => undefined); // surfaced by every operation through gate()
    return p;
  };
  let migrated = openSchema();
  const gate = async () => {
    if (closed) throw new StoreError("The store is closed");
    const attempt = migrated;
    try {
      await attempt;
    } catch (e) {
      // The server was unreachable at start-up: the next operation tries again (a refused schema stays refused).
      if (isTransient(e) && migrated === attempt && !closed) migrated = openSchema();
      throw toStoreError(e, `Cannot open the PostgreSQL store (schema ${schema})`);
    }
  };
  const db = createPgDb(pool, s, gate, patience);

  // What this process has announced per app, so our own NOTIFY echo (and stale ones) are not repeated.
  const announced = new Map<string, number>();
  const listeners = new Set<(app: string, seq: number) => void>();
  const announce = (app: string, seq: number) => {
    if (seq <= (announced.get(app) ?? 0)) return;
    announced.set(app, seq);
    for (const l of listeners) {
      try {
        l(app, seq);
      } catch (e) {
        onError(e as Error); // a listener must not fail the commit that triggered it
      }
    }
  };
  const writer = new GroupCommit({ pool, s, schema, maxInFlight: Math.max(1, Math.floor(poolOptions.max / 2)), gate, patience, onCommitted: (byApp) => byApp.forEach((seq, app) => announce(app, seq)) });
  const notifier = new Notifier({
    config: clientConfig(poolOptions, schema),
    schema,
    onAppended: announce,
    onError,
    onConnected: () => {
      db.query<{ app_id: string; last_seq: number }>(`SELECT app_id, last_seq FROM ${s}.app_counters`).then(
        (rows) => rows.forEach((r) => announce(r.app_id, r.last_seq)),
        (e: Error) => onError(e),
      );
    },
  });
  const checkedClients = new WeakSet<object>();

  return {
    kind: "postgres",
    schema,
    decisions: createPgDecisionStore(db),
    deliveries: createPgDeliveryStore(db),
    tenancy: createPgTenancyStore(db),
    ready: gate,

    async ping() {
      if (closed) throw new StoreError("The store is closed");
      if (!open) throw new StoreError(`The PostgreSQL store is not open yet (connecting or migrating schema ${schema})`);
      await sqlOn(pool)
        .query(`SELECT 1 FROM ${s}.authbus_migrations LIMIT 1`)
        .catch((e: Error) => {
          throw new StoreError(`The database is not reachable: ${e.message}`, e);
        });
    },

    append: (inputs) => (inputs.length === 0 ? Promise.resolve([]) : writer.append(inputs)),

    async appendInTransaction(tx: TransactionHandle, input: AppendInput): Promise<AppendResult> {
      const client = await openTransactionOf(tx);
      await gate();
      const sql = sqlOn(client);
      try {
        if (!checkedClients.has(client)) {
          const [where] = await sql.query<{ db: string; ok: boolean }>("SELECT current_database() AS db, to_regclass($1) IS NOT NULL AS ok", [`${s}.events`]);
          if (where!.db !== database || !where!.ok) {
            throw new TransactionRequiredError(`fromPg(client): the client is connected to database ${where!.db}, not to the bus's database ${database} with schema ${schema}`);
          }
          checkedClients.add(client);
        }
        // The NOTIFY queued inside announces the event to every listener when (and only if) the caller commits.
        const { outcomes } = await appendCalls(sql, s, schema, [[input]]);
        const o = outcomes[0]!;
        if ("err" in o) throw o.err;
        return o.ok[0]!;
      } catch (e) {
        // pg settles a failed query before the server reports the transaction state, so the check above can miss it.
        if (sqlState(e) === "25P02") throw new TransactionRequiredError("fromPg(client): the transaction has already failed; roll it back");
        throw e;
      }
    },

    async query(q) {
      const { text, values } = eventQuerySql(s, q);
      return (await db.query<EventRow>(text, values)).map(toEnvelope);
    },

    async getEvent(app_id, id) {
      const [r] = await db.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM ${s}.events WHERE app_id = $1 AND id = $2`, [app_id, id]);
      return r && toEnvelope(r);
    },

    async headSeq(app_id) {
      // The counter is written in the same transaction as the events it counts: when it reads N, 1..N are visible.
      const [r] = await db.query<{ last_seq: number }>(`SELECT last_seq FROM ${s}.app_counters WHERE app_id = $1`, [app_id]);
      return r?.last_seq ?? 0;
    },

    async openCursor(app_id, consumer) {
      const read = () => db.query<{ cursor_seq: number }>(`SELECT cursor_seq FROM ${s}.consumers WHERE app_id = $1 AND name = $2`, [app_id, consumer]);
      const [existing] = await read();
      if (existing) return existing.cursor_seq;
      const [created] = await db.query<{ cursor_seq: number }>(
        `INSERT INTO ${s}.consumers (app_id, name, cursor_seq, updated_at)
         VALUES ($1, $2, coalesce((SELECT last_seq FROM ${s}.app_counters WHERE app_id = $1), 0), $3)
         ON CONFLICT (app_id, name) DO NOTHING RETURNING cursor_seq`,
        [app_id, consumer, Date.now()],
      );
      // Absent when another process created it meanwhile: read theirs.
      return created?.cursor_seq ?? (await read())[0]!.cursor_seq;
    },

    async saveCursor(app_id, consumer, seq) {
      await db.exec(
        `INSERT INTO ${s}.consumers AS c (app_id, name, cursor_seq, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (app_id, name) DO UPDATE SET cursor_seq = GREATEST(c.cursor_seq, excluded.cursor_seq), updated_at = excluded.updated_at`,
        [app_id, consumer, seq, Date.now()],
      );
    },

    onAppended(listener) {
      listeners.add(listener);
      notifier.start();
      return () => listeners.delete(listener);
    },

    async close() {
      if (closed) return;
      await writer.close();
      closed = true;
      listeners.clear();
      await notifier.close();
      await migrated.catch(() => undefined);
      poolEnded = true;
      await pool.end();
    },
  };
}
