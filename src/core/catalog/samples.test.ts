import { describe, expect, it } from "vitest";
import { EVENT_TYPES } from "./catalog.js";
import { samplePayload } from "./samples.js";
import { validateEmit } from "../validate.js";

describe("samplePayload", () => {
  it.each(EVENT_TYPES)("%s sample passes its own schema", (type) => {
    expect(() => validateEmit(type, samplePayload(type), undefined)).not.toThrow();
  });
});
