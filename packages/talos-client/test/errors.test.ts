import { describe, it } from "vitest";
import { isTalosClientError, TalosClientError } from "../src/index.js";

describe("TalosClientError", () => {
  it("prefixes the message with the code and keeps the raw text", ({ expect }) => {
    const error = new TalosClientError("INTERNAL", "boom", { details: { path: "a.b" } });
    expect(error.message).toBe("[INTERNAL] boom");
    expect(error.rawMessage).toBe("boom");
    expect(error.details).toEqual({ path: "a.b" });
    expect(error.name).toBe("TalosClientError");
  });

  it("wraps a foreign error in from() and keeps it as cause", ({ expect }) => {
    const original = new TypeError("bad");
    const wrapped = TalosClientError.from(original);
    expect(wrapped.code).toBe("INTERNAL");
    expect(wrapped.cause).toBe(original);
    expect(TalosClientError.from(wrapped)).toBe(wrapped);
  });

  it("recognises a look-alike from another copy by name and code", ({ expect }) => {
    const lookAlike = Object.assign(new Error("x"), { name: "TalosClientError", code: "INTERNAL" });
    expect(isTalosClientError(lookAlike)).toBe(true);
    expect(
      isTalosClientError(Object.assign(new Error("x"), { name: "TalosClientError", code: "NOPE" })),
    ).toBe(false);
    expect(isTalosClientError({ name: "TalosClientError", code: "INTERNAL" })).toBe(false);
  });
});
