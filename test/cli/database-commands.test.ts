/** migrate, apps create, keys create|list|revoke: real processes on a temp SQLite file. */
import { describe, expect, it } from "vitest";
import { createRuntime } from "../../src/runtime.js";
import { tempDbPath } from "../helpers.js";
import { expectOneLineError, runCli } from "./helpers.js";

async function authenticate(database: string, key: string) {
  const rt = createRuntime({ database, delivery: { enabled: false } });
  try {
    return await rt.keys.authenticate(key);
  } finally {
    await rt.close();
  }
}

describe("authbus migrate / apps / keys (on the database)", () => {
  it("migrates, creates an app, and manages its keys: the printed key works until it is revoked", async () => {
    const database = `sqlite:${tempDbPath()}`;
    const db = ["--database", database];

    const migrated = await runCli(["migrate", ...db]);
    expect(migrated).toMatchObject({ code: 0, stderr: "" });
    expect(migrated.stdout).toBe(`Database ${database} is migrated to the current schema.\n`);
    expect((await runCli(["migrate", ...db])).code).toBe(0); // idempotent

    expect(await runCli(["apps", "create", "acme", ...db])).toMatchObject({ code: 0, stdout: "Created app acme\n" });
    expect(expectOneLineError(await runCli(["apps", "create", "acme", ...db]))).toBe("error: App acme already exists (invalid_app)");
    expect(expectOneLineError(await runCli(["apps", "create", "Not Valid", ...db]))).toMatch(/^error: App id "Not Valid" is malformed.*\(invalid_app\)$/);

    // The key alone on stdout (capturable); the note on stderr.
    const created = await runCli(["keys", "create", "--app", "acme", "--scope", "ingest", "--name", "web app", ...db]);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^abk_[A-Za-z0-9_-]{43}\n$/);
    expect(created.stderr).toMatch(/^Created ingest key key_[0-9a-f]+ for app acme\. This is the only time the key is shown/);
    const key = created.stdout.trim();
    expect(await authenticate(database, key)).toMatchObject({ app_id: "acme", scope: "ingest" });

    // The database variable is honoured like the flag.
    const listed = await runCli(["keys", "list", "--app", "acme"], { AUTHBUS_DATABASE_URL: database });
    expect(listed.code).toBe(0);
    const [header, row, ...rest] = listed.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^ID\s+SCOPE\s+NAME\s+PREFIX\s+CREATED\s+REVOKED$/);
    expect(rest).toEqual([]);
    expect(row).toMatch(/^key_[0-9a-f]+\s+ingest\s+web app\s+abk_\S*\.\.\.\s+\S+Z\s+-$/);
    expect(listed.stdout).not.toContain(key);
    const id = row!.split(/\s+/)[0]!;

    expect(await runCli(["keys", "revoke", id, ...db])).toMatchObject({ code: 0, stdout: `Revoked key ${id} of app acme\n` });
    expect(await authenticate(database, key)).toBeUndefined();
    expect((await runCli(["keys", "list", "--app", "acme", ...db])).stdout).toMatch(new RegExp(`${id}.*\\dZ\\n$`));
    expect(expectOneLineError(await runCli(["keys", "revoke", "key_unknown", ...db]))).toBe("error: no key key_unknown");
    expect(expectOneLineError(await runCli(["keys", "revoke", id, "--app", "other", ...db]))).toBe(`error: no key ${id} in app other`);
  });

  it("refuses bad input with one line on stderr and a non-zero exit", async () => {
    const db = ["--database", `sqlite:${tempDbPath()}`];
    expect(expectOneLineError(await runCli(["keys", "create", "--app", "ghost", "--scope", "admin", ...db]))).toBe("error: app ghost does not exist: create it with authbus apps create ghost");
    expect(expectOneLineError(await runCli(["keys", "create", "--app", "acme", "--scope", "root", ...db]))).toMatch(/argument 'root' is invalid\. Allowed choices are admin, ingest, read/);
    expect(expectOneLineError(await runCli(["keys", "create", "--app", "acme", ...db]))).toBe("error: required option '--scope <scope>' not specified");
    expect(expectOneLineError(await runCli(["keys", "revoke", ...db]))).toBe("error: missing required argument 'id'");
    expect(expectOneLineError(await runCli(["migrate", "--database", "mysql://db.example.com/authbus"]))).toMatch(/^error: Invalid Authbus options: .*unsupported database URL.*\(invalid_options\)$/);
    expect(expectOneLineError(await runCli(["lisen"]))).toBe("error: unknown command 'lisen' (Did you mean listen?)");
  });
});
