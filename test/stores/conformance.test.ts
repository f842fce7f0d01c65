import Database from "better-sqlite3";
import { describeStoreConformance } from "../../src/testing/store-conformance.js";
import { createSqliteStore } from "../../src/stores/sqlite/sqlite-store.js";
import { fromBetterSqlite3 } from "../../src/stores/sqlite/transaction.js";
import { tempDbPath } from "../helpers.js";
import { freshPgStore } from "./pg-helpers.js";

describeStoreConformance("sqlite", async () => {
  const filename = tempDbPath();
  const store = createSqliteStore({ filename });
  return {
    store,
    cleanup: () => store.close(),
    async beginTransaction() {
      const db = new Database(filename);
      db.pragma("busy_timeout = 5000");
      db.exec("BEGIN IMMEDIATE");
      const end = (sql: string) => async () => {
        db.exec(sql);
        db.close();
      };
      return { handle: fromBetterSqlite3(db), commit: end("COMMIT"), rollback: end("ROLLBACK") };
    },
  };
});

// A fresh schema per test in database `test` (SERVICES.md), dropped afterwards.
describeStoreConformance("postgres", () => freshPgStore());
