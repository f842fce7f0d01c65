import pg from "pg";
import { AuthbusError, StoreError } from "../../core/errors.js";

/** Something that runs SQL: the store's pool, one of its clients, or the caller's client (outbox). */
export type PgClientLike = Pick<pg.ClientBase, "query">;

/** Rows out, errors as StoreError (code store_failed), so callers branch on codes as with SQLite. */
export interface Sql {
  /** `name` makes it a prepared statement, parsed and planned once per connection (only on our own clients). */
  query<R>(text: string, values?: readonly unknown[], name?: string): Promise<R[]>;
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
    // A peer that vanished without closing (a dead host, a dropped NAT entry) is found by TCP keepalive, not never.
    keepAlive: true,
  });
  // An idle client whose connection broke: the pool drops it and the next query opens a new one.
  pool.on("error", (e) => o.onError(e));
  return pool;
}

/** The LISTEN connection; named after its schema so an operator (or a test) can find it in pg_stat_activity. */
export function clientConfig(o: PoolOptions, schema: string): pg.ClientConfig {
  return { connectionString: o.connectionString, connectionTimeoutMillis: o.connectTimeoutMs, application_name: `authbus-listen:${schema}`.slice(0, 63), types: TYPES, keepAlive: true };
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
    async query<R>(text: string, values?: readonly unknown[], name?: string) {
      try {
        return (await (name ? client.query({ name, text, values: values as unknown[] }) : client.query(text, values as unknown[]))).rows as R[];
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
  const root = rootCause(e);
  return root !== undefined && (!(root instanceof pg.DatabaseError) || UNAVAILABLE_STATES.test(root.code ?? ""));
}

/** Through our own wrappers (StoreError's cause) to what the driver or the socket threw. */
function rootCause(e: unknown): unknown {
  let root = e;
  while (root instanceof AuthbusError) {
    if (root.cause === undefined) return undefined;
    root = root.cause;
  }
  return root;
}

const UNAVAILABLE_STATES = /^(08...|57P0[123]|53300)$/;
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "ECONNABORTED"]);
const DRIVER_MESSAGES = /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect|Connection ended unexpectedly/i;

/**
 * The server is away, not the request wrong: a refused or broken connection, a shutdown or restart
 * in progress (57P01 admin, 57P02 crash, 57P03 still starting), too many connections, or another
 * connection exception (class 08). Worth waiting for; retrying an SQL error would only fail again.
 */
export function isTransient(e: unknown): boolean {
  const root = rootCause(e);
  if (root === undefined) return false;
  if (root instanceof pg.DatabaseError) return UNAVAILABLE_STATES.test(root.code ?? "");
  const code = (root as { code?: unknown }).code;
  if (typeof code === "string" && SOCKET_CODES.has(code)) return true;
  return root instanceof Error && DRIVER_MESSAGES.test(root.message);
}

/** The query never left this process: the client was already known to be broken or closed. */
function neverSent(e: unknown): boolean {
  const root = rootCause(e);
  return root instanceof Error && /not queryable/.test(root.message);
}

/** How long operations wait for the server to come back; `stopped` ends the wait at close(). */
export interface Patience {
  timeoutMs: number;
  stopped: () => boolean;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const backoff = (attempt: number) => Math.min(1_000, 25 * 2 ** attempt) * (0.5 + Math.random() / 2);

/**
 * Waits before the next attempt and returns true, or returns false when it is time to give up. The
 * last wait is cut short at `deadline` and one more attempt is made there: an operation waits out its
 * whole patience, not just the backoff steps that fit in it (giving up when the next step would
 * overshoot could end the wait up to a second early).
 */
export async function waitToRetry(e: unknown, attempt: number, deadline: number, patience: Patience): Promise<boolean> {
  if (!isTransient(e) || patience.stopped()) return false;
  const left = deadline - Date.now();
  if (left <= 0) return false;
  await sleep(Math.min(backoff(attempt), left));
  return !patience.stopped();
}

const guarded = new WeakSet<pg.PoolClient>();
const ignore = () => undefined;

/**
 * A pooled client, waiting out an outage until `deadline`: a failed connect sent nothing, so any
 * operation may wait here. pg-pool listens for errors only on idle clients; a checked-out client
 * whose connection drops emits 'error' with nobody listening, which would crash the process. The
 * error also fails the query in progress (or the next one), and that is where it is handled.
 */
export async function checkout(pool: pg.Pool, patience: Patience, deadline = Date.now() + patience.timeoutMs): Promise<pg.PoolClient> {
  for (let attempt = 0; ; attempt++) {
    try {
      const client = await pool.connect();
      if (!guarded.has(client)) {
        guarded.add(client);
        client.on("error", ignore);
      }
      return client;
    } catch (e) {
      if (!(await waitToRetry(e, attempt, deadline, patience))) throw toStoreError(e, "Cannot connect to PostgreSQL");
    }
  }
}

/**
 * A statement that failed in flight on a lost connection may or may not have run. A read runs again;
 * a write is retried only when it provably never left (the caller's retry must decide otherwise).
 */
const READ_ONLY = /^\s*SELECT\b/i;
const WRITES = /\b(INSERT|UPDATE|DELETE|MERGE|pg_notify|nextval|setval|pg_advisory\w*)\b/i;
const isRead = (text: string) => READ_ONLY.test(text) && !WRITES.test(text);

async function statement(pool: pg.Pool, patience: Patience, text: string, values: readonly unknown[] | undefined): Promise<pg.QueryResult> {
  const deadline = Date.now() + patience.timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const client = await checkout(pool, patience, deadline);
    try {
      const result = await client.query(text, values as unknown[]);
      client.release();
      return result;
    } catch (e) {
      client.release(isConnectionError(e) ? (e as Error) : undefined);
      if ((isRead(text) || neverSent(e)) && (await waitToRetry(e, attempt, deadline, patience))) continue;
      throw toStoreError(e);
    }
  }
}

/** `gate` resolves once the schema is migrated; every operation waits for it (and fails with its error). */
export function createPgDb(pool: pg.Pool, s: string, gate: () => Promise<void>, patience: Patience): PgDb {
  return {
    s,
    async query<R>(text: string, values?: readonly unknown[]) {
      await gate();
      return (await statement(pool, patience, text, values)).rows as R[];
    },
    async exec(text: string, values?: readonly unknown[]) {
      await gate();
      return (await statement(pool, patience, text, values)).rowCount ?? 0;
    },
    async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
      await gate();
      return inTransaction(pool, fn, patience);
    },
  };
}

/**
 * Runs `fn` in one transaction. When the connection is lost before COMMIT was sent, the server rolls
 * the transaction back, so `fn` runs again on a new connection (it must only talk to the database).
 * When it is lost during COMMIT, the outcome is unknown: that fails with StoreError, never retried
 * here (group commit has its own, idempotent, answer to that).
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (tx: Sql) => Promise<T>, patience: Patience): Promise<T> {
  const deadline = Date.now() + patience.timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const client = await checkout(pool, patience, deadline);
    const tx = sqlOn(client);
    let committing = false;
    try {
      await tx.exec("BEGIN");
      const result = await fn(tx);
      committing = true;
      await tx.exec("COMMIT");
      client.release();
      return result;
    } catch (e) {
      const broken = isConnectionError(e);
      if (!broken) await client.query("ROLLBACK").catch(() => undefined);
      client.release(broken ? (e as Error) : undefined);
      if (committing && isTransient(e)) throw new StoreError(`The connection to PostgreSQL was lost during COMMIT; the transaction may or may not have been applied: ${(e as Error).message}`, e);
      if (!committing && (await waitToRetry(e, attempt, deadline, patience))) continue;
      throw toStoreError(e);
    }
  }
}
