import { describe, it } from "vitest";
import type { LoadedConfig } from "../src/internal/config/load.js";
import { cloudflareApiToken } from "../src/internal/secrets/cloudflare-token.js";

const project = (apiToken?: string) =>
  ({
    dir: "/nowhere",
    config: { tunnel: { name: "t", accountId: "a", zone: "example.com", routes: [], apiToken } },
  }) as unknown as LoadedConfig;

describe("cloudflareApiToken (the one reader of CLOUDFLARE_API_TOKEN)", () => {
  it("takes CLOUDFLARE_API_TOKEN first, then tunnel.apiToken, else nothing", async ({ expect }) => {
    const both = await cloudflareApiToken(project("env:CF_TOKEN"), {
      CLOUDFLARE_API_TOKEN: "from-env",
      CF_TOKEN: "from-ref",
    });
    expect(both?.reveal()).toBe("from-env");
    expect((await cloudflareApiToken(project("env:CF_TOKEN"), { CF_TOKEN: "from-ref" }))?.reveal()).toBe(
      "from-ref",
    );
    expect(await cloudflareApiToken(project(), {})).toBeUndefined();
  });

  it("fails naming tunnel.apiToken and the reference when it gives no value (never a silent fallback)", async ({
    expect,
  }) => {
    const error = await cloudflareApiToken(project("sops:cloudflare.apiToken"), {}).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "SECRET_UNRESOLVED" });
    expect((error as Error).message).toContain(
      "homelab.yaml tunnel.apiToken: secret reference sops:cloudflare.apiToken: homelab.yaml has no secrets: section",
    );
  });
});
