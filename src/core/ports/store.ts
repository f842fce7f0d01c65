/**
 * The store port: what the bus needs from a database. Each adapter (SQLite now, PostgreSQL later)
 * implements it and passes the conformance suite in src/testing/store-conformance.ts.
 */
import type { Envelope } from "../envelope.js";

/** An event ready to be recorded: validated, serialised, seq not yet assigned. */
export interface AppendInput {
  id: string;
  /** True when the caller chose the id (idempotent retry possible); false for generated UUIDv7 ids. */
  callerId: boolean;
  app_id: string;
  type: string;
  user_id: string | undefined;
  timestamp: number;
  payloadJson: string;
  contextJson: string;
}

export interface AppendResult {
  id: string;
  seq: number;
  subject_seq: number | null;
  /** True when an event with this id already existed; the answer is the original one. */
  duplicate: boolean;
}

export interface EventQuery {
  app_id: string;
  /** Type patterns; the event must match one. */
  types?: readonly string[];
  user_id?: string;
  after_seq?: number;
  /** UNIX seconds, inclusive. */
  since?: number;
  /** UNIX seconds, exclusive. */
  until?: number;
  limit: number;
  /**
   * The caller only renders these envelopes and hands them to no one else: a store may attach the
   * JSON text it read them from (keepStoredJson), so `native` splices it instead of serialising again.
   */
  forRendering?: boolean;
}

/** A handle on the caller's own open transaction (outbox pattern). */
export interface TransactionHandle {
  readonly kind: string;
  readonly connection: unknown;
}

export interface EventStore {
  readonly kind: string;
  /** Records events durably (group commit); resolves in input order once committed. */
  append(inputs: readonly AppendInput[]): Promise<AppendResult[]>;
  /** Records one event inside the caller's open transaction; visible when the caller commits. */
  appendInTransaction(tx: TransactionHandle, input: AppendInput): AppendResult | Promise<AppendResult>;
  query(q: EventQuery): Promise<Envelope[]>;
  getEvent(app_id: string, id: string): Promise<Envelope | undefined>;
  /** Highest visible seq of the app (0 when empty). */
  headSeq(app_id: string): Promise<number>;
  /** A consumer's cursor; a new consumer starts at the current head (it sees what is recorded after it). */
  openCursor(app_id: string, consumer: string): Promise<number>;
  /** Moves a consumer's cursor forward (never backward). */
  saveCursor(app_id: string, consumer: string, seq: number): Promise<void>;
  /** Called after this process committed events, so readers can wake without polling. */
  onAppended(listener: (app_id: string, seq: number) => void): () => void;
  close(): Promise<void>;
}
