import pg from "pg";
import { AuthbusError, StoreError } from "../../core/errors.js";

/** Something that runs SQL: the store's pool, one of its clients, or the caller's client (outbox). */
export type PgClientLike = Pick<pg.ClientBase, "query">;

/** Rows out, errors as StoreError (code store_failed), so callers branch on codes as with SQLite. */
export interface Sql {
  query<R>(text: string, values?: readonly unknown[]): Promise<R[]>;
  /** Runs a statement; resolves with the number of rows it touched. */
  exec(text: string, values?: readonly unknown[]): Promise<number>;
}

export interface PgDb extends Sql {
  /** The schema, quoted for interpolation into SQL: `${db.s}.events`. */
  readonly s: string;
  /** Runs `fn` in one transaction on one pooled client (READ COMMITTED). */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Schema names are interpolated into SQL, so only plain lower-case identifiers are accepted. */
export function quoteSchema(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) throw new TypeError(`createPostgresStore: schema ${JSON.stringify(schema)} must match ${SCHEMA_NAME}`);
  return `"${schema}"`;
}

/**
 * int8 columns (seq, pos, times in ms) come back as JS numbers: they stay below 2^53, and every
 * port speaks numbers. Only this pool's clients use it; the caller's client (fromPg) keeps its own
 * parsers, so the append path converts explicitly.
 */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === pg.types.builtins.INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as "text")) as pg.CustomTypesConfig["getTypeParser"],
};

export interface PoolOptions {
  connectionString: string;
  max: number;
  connectTimeoutMs: number;
  onError: (e: Error) => void;
}

export function createPool(o: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: o.connectionString,
    max: o.max,
    connectionTimeoutMillis: o.connectTimeoutMs,
    application_name: "authbus",
    types: TYPES,
  });
  // An idle client whose connection broke: the pool drops it and the next query opens a new one.
  pool.on("error", (e) => o.onError(e));
  return pool;
}

/** The LISTEN connection; named after its schema so an operator (or a test) can find it in pg_stat_activity. */
export function clientConfig(o: PoolOptions, schema: string): pg.ClientConfig {
  return { connectionString: o.connectionString, connectionTimeoutMillis: o.connectTimeoutMs, application_name: `authbus-listen:${schema}`.slice(0, 63), types: TYPES };
}

export function toStoreError(e: unknown, what = "PostgreSQL query failed"): AuthbusError {
  if (e instanceof AuthbusError) return e;
  return new StoreError(`${what}: ${(e as Error)?.message ?? String(e)}`, e);
}

/** The SQLSTATE of a server error (undefined for connection errors). */
export function sqlState(e: unknown): string | undefined {
  const c = (e as { cause?: unknown; code?: unknown })?.code;
  if (typeof c === "string" && /^[0-9A-Z]{5}$/.test(c)) return c;
  const cause = (e as { cause?: unknown })?.cause;
  return cause !== undefined && cause !== e ? sqlState(cause) : undefined;
}

export function sqlOn(client: PgClientLike): Sql {
  return {
    async query<R>(text: string, values?: readonly unknown[]) {
      try {
        return (await client.query(text, values as unknown[])).rows as R[];
      } catch (e) {
        throw toStoreError(e);
      }
    },
    async exec(text: string, values?: readonly unknown[]) {
      try {
        return (await client.query(text, values as unknown[])).rowCount ?? 0;
      } catch (e) {
        throw toStoreError(e);
      }
    },
  };
}

/**
 * After a connection error (not an SQL error, not our own domain error) the client is unusable: it
 * must be destroyed, not returned to the pool. In doubt destroy it; that only costs a reconnect.
 */
export function isConnectionError(e: unknown): boolean {
  let root = e;
  while (root instanceof AuthbusError) {
    if (root.cause === undefined) return false;
    root = root.cause;
  }
  return !(root instanceof pg.DatabaseError);
}

/** `gate` resolves once the schema is migrated; every operation waits for it (and fails with its error). */
export function createPgDb(pool: pg.Pool, s: string, gate: () => Promise<void>): PgDb {
  const direct = sqlOn(pool);
  return {
    s,
    async query<R>(text: string, values?: readonly unknown[]) {
      await gate();
      return direct.query<R>(text, values);
    },
    async exec(text: string, values?: readonly unknown[]) {
      await gate();
      return direct.exec(text, values);
    },
    async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
      await gate();
      return inTransaction(pool, fn);
    },
  };
}

export async function inTransaction<T>(pool: pg.Pool, fn: (tx: Sql) => Promise<T>): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (e) {
    throw toStoreError(e, "Cannot connect to PostgreSQL");
  }
  const tx = sqlOn(client);
  try {
    await tx.exec("BEGIN");
    const result = await fn(tx);
    await tx.exec("COMMIT");
    client.release();
    return result;
  } catch (e) {
    const broken = isConnectionError(e);
    if (!broken) await client.query("ROLLBACK").catch(() => undefined);
    client.release(broken ? (e as Error) : undefined);
    throw toStoreError(e);
  }
}
