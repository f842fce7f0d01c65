/** The CLI's pure pieces: one-line errors, masked URLs, tables, the progress bar and the SSE parser. */
import { describe, expect, it } from "vitest";
import { NotFoundError } from "../../src/core/errors.js";
import { ApiError } from "../../src/cli/client.js";
import { CliError, errorLine, oneLine, progressBar, redactUrl, table } from "../../src/cli/output.js";
import { createSseParser, type SseMessage } from "../../src/cli/tail.js";

describe("CLI output", () => {
  it("makes every error one line, keeping the stable code", () => {
    expect(oneLine("a\n  b\r\nc ")).toBe("a b c");
    expect(errorLine(new CliError("no key\nat all"))).toBe("error: no key at all");
    expect(errorLine(new NotFoundError("app", "x"))).toBe('error: No app "x" in this app (not_found)');
    expect(errorLine(Object.assign(new Error("listen EADDRINUSE: address already in use"), { code: "EADDRINUSE" }))).toBe("error: listen EADDRINUSE: address already in use");
    expect(errorLine(new ApiError({ status: 422, code: "invalid_payload", detail: "Invalid user.created event", errors: [{ pointer: "/payload/user/id", message: "Expected required property" }] }))).toBe(
      "error: Invalid user.created event at /payload/user/id: Expected required property (422 invalid_payload)",
    );
    expect(errorLine(new ApiError({ status: 502 }))).toBe("error: request failed (502)");
  });

  it("masks a password in a database URL and leaves the rest alone", () => {
    expect(redactUrl("postgres://authbus:s3cret@db:5432/authbus")).toBe("postgres://authbus:***@db:5432/authbus");
    expect(redactUrl("postgres://authbus@db/authbus")).toBe("postgres://authbus@db/authbus");
    expect(redactUrl("sqlite:./authbus.db")).toBe("sqlite:./authbus.db");
  });

  it("aligns tables and draws the progress bar", () => {
    expect(table(["ID", "NAME"], [["a", null], ["bbb", "x"]])).toEqual(["ID   NAME", "a    -", "bbb  x"]);
    expect(progressBar(0, 4, 4)).toBe("[....] 0/4");
    expect(progressBar(3, 4, 4)).toBe("[###.] 3/4");
    expect(progressBar(0, 0, 4)).toBe("[####] 0/0");
  });

  it("parses server-sent events split anywhere, skipping keep-alive comments", () => {
    const got: SseMessage[] = [];
    const feed = createSseParser((m) => got.push(m));
    const stream = 'id: 1\nevent: user.created\ndata: {"a":1}\n\n: keep-alive\n\nid: 2\r\nevent: x\r\ndata: line1\r\ndata: line2\r\n\r\n';
    for (const ch of stream) feed(ch);
    expect(got).toEqual([
      { id: "1", event: "user.created", data: '{"a":1}' },
      { id: "2", event: "x", data: "line1\nline2" },
    ]);
  });
});
