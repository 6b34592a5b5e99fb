import { describe, it } from "vitest";
import { ArgoBootstrapError, isArgoBootstrapError } from "../src/index.js";

describe("ArgoBootstrapError", () => {
  it("prefixes the message with the code and keeps the raw text", ({ expect }) => {
    const error = new ArgoBootstrapError("INTERNAL", "boom", { details: { path: "a.b" } });
    expect(error.message).toBe("[INTERNAL] boom");
    expect(error.rawMessage).toBe("boom");
    expect(error.details).toEqual({ path: "a.b" });
    expect(error.name).toBe("ArgoBootstrapError");
  });

  it("wraps a foreign error in from() and keeps it as cause", ({ expect }) => {
    const original = new TypeError("bad");
    const wrapped = ArgoBootstrapError.from(original);
    expect(wrapped.code).toBe("INTERNAL");
    expect(wrapped.cause).toBe(original);
    expect(ArgoBootstrapError.from(wrapped)).toBe(wrapped);
  });

  it("recognises a look-alike from another copy by name and code", ({ expect }) => {
    const lookAlike = Object.assign(new Error("x"), { name: "ArgoBootstrapError", code: "INTERNAL" });
    expect(isArgoBootstrapError(lookAlike)).toBe(true);
    expect(
      isArgoBootstrapError(Object.assign(new Error("x"), { name: "ArgoBootstrapError", code: "NOPE" })),
    ).toBe(false);
    expect(isArgoBootstrapError({ name: "ArgoBootstrapError", code: "INTERNAL" })).toBe(false);
  });
});
