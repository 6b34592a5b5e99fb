import { describe, it } from "vitest";
import { isTalosConfigError, TalosConfigError } from "../src/index.js";

describe("TalosConfigError", () => {
  it("prefixes the message with the code and keeps the raw text", ({ expect }) => {
    const error = new TalosConfigError("INTERNAL", "boom", { details: { path: "a.b" } });
    expect(error.message).toBe("[INTERNAL] boom");
    expect(error.rawMessage).toBe("boom");
    expect(error.details).toEqual({ path: "a.b" });
    expect(error.name).toBe("TalosConfigError");
  });

  it("wraps a foreign error in from() and keeps it as cause", ({ expect }) => {
    const original = new TypeError("bad");
    const wrapped = TalosConfigError.from(original);
    expect(wrapped.code).toBe("INTERNAL");
    expect(wrapped.cause).toBe(original);
    expect(TalosConfigError.from(wrapped)).toBe(wrapped);
  });

  it("recognises a look-alike from another copy by name and code", ({ expect }) => {
    const lookAlike = Object.assign(new Error("x"), { name: "TalosConfigError", code: "INTERNAL" });
    expect(isTalosConfigError(lookAlike)).toBe(true);
    expect(
      isTalosConfigError(Object.assign(new Error("x"), { name: "TalosConfigError", code: "NOPE" })),
    ).toBe(false);
    expect(isTalosConfigError({ name: "TalosConfigError", code: "INTERNAL" })).toBe(false);
  });
});
