import { describe, it } from "vitest";
import { CfTunnelError, isCfTunnelError } from "../src/index.js";

describe("CfTunnelError", () => {
  it("prefixes the message with the code and keeps the raw text", ({ expect }) => {
    const error = new CfTunnelError("INTERNAL", "boom", { details: { path: "a.b" } });
    expect(error.message).toBe("[INTERNAL] boom");
    expect(error.rawMessage).toBe("boom");
    expect(error.details).toEqual({ path: "a.b" });
    expect(error.name).toBe("CfTunnelError");
  });

  it("wraps a foreign error in from() and keeps it as cause", ({ expect }) => {
    const original = new TypeError("bad");
    const wrapped = CfTunnelError.from(original);
    expect(wrapped.code).toBe("INTERNAL");
    expect(wrapped.cause).toBe(original);
    expect(CfTunnelError.from(wrapped)).toBe(wrapped);
  });

  it("recognises a look-alike from another copy by name and code", ({ expect }) => {
    const lookAlike = Object.assign(new Error("x"), { name: "CfTunnelError", code: "INTERNAL" });
    expect(isCfTunnelError(lookAlike)).toBe(true);
    expect(isCfTunnelError(Object.assign(new Error("x"), { name: "CfTunnelError", code: "NOPE" }))).toBe(
      false,
    );
    expect(isCfTunnelError({ name: "CfTunnelError", code: "INTERNAL" })).toBe(false);
  });
});
