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

describe("ensureTunnel when Cloudflare cannot be reached", () => {
  it("retries the lost connection and then fails with API_ERROR, not INTERNAL", async ({ expect }) => {
    const { default: Cloudflare } = await import("cloudflare");
    const { ensureTunnel } = await import("../src/index.js");
    // nothing listens on port 1: the SDK throws its APIConnectionError (whose name is plain "Error")
    const client = new Cloudflare({ apiToken: "t", baseURL: "http://127.0.0.1:1/client/v4", maxRetries: 0 });
    const events: string[] = [];
    const error = await ensureTunnel({
      client,
      accountId: "0123456789abcdef0123456789abcdef",
      name: "homelab",
      retry: { retries: 1, sleep: async () => {} },
      onProgress: (e) => events.push(e.type),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "CfTunnelError", code: "API_ERROR" });
    expect((error as Error).message).toContain("could not reach Cloudflare");
    expect(events).toEqual(["retry"]);
  });
});
