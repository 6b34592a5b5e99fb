import * as tc from "@talos-homelab/talos-config";
import { describe, it } from "vitest";
import { registerSchematic } from "../src/internal/image-factory/register.js";
import { createImageFactoryEmulator } from "../src/internal/lab/image-factory.js";

const BASE = "https://factory.example.invalid";
const schematic = tc.createSchematic({
  officialExtensions: ["siderolabs/cloudflared", "siderolabs/tailscale"],
});

describe("createImageFactoryEmulator", () => {
  // siderolabs/image-factory internal/frontend/http: assets and schematics exist only for stored ids.
  it("404s an unknown schematic id until it is registered", async ({ expect }) => {
    const factory = createImageFactoryEmulator(tc);
    const iso = `${BASE}/image/${schematic.id}/v1.13.9/metal-amd64.iso`;
    const manifest = `${BASE}/v2/metal-installer/${schematic.id}/manifests/v1.13.9`;
    expect((await factory.fetch(iso)).status).toBe(404);
    expect((await factory.fetch(manifest)).status).toBe(404);
    expect((await factory.fetch(`${BASE}/schematics/${schematic.id}`)).status).toBe(404);
    await registerSchematic({ baseURL: BASE, fetch: factory.fetch }, schematic);
    expect((await factory.fetch(iso)).status).toBe(200);
    expect((await factory.fetch(manifest)).status).toBe(200);
    expect(await (await factory.fetch(`${BASE}/schematics/${schematic.id}`)).text()).toBe(schematic.yaml);
  });

  it("answers 400 for a schematic with an unknown field", async ({ expect }) => {
    const factory = createImageFactoryEmulator(tc);
    const response = await factory.fetch(`${BASE}/schematics`, {
      method: "POST",
      body: "customization:\n  nope: 1\n",
    });
    expect(response.status).toBe(400);
  });
});

describe("registerSchematic", () => {
  it("stores the exact YAML under our id and is idempotent", async ({ expect }) => {
    const factory = createImageFactoryEmulator(tc);
    await registerSchematic({ baseURL: BASE, fetch: factory.fetch }, schematic);
    await registerSchematic({ baseURL: `${BASE}/`, fetch: factory.fetch }, schematic);
    expect([...factory.schematics]).toEqual([[schematic.id, schematic.yaml]]);
  });

  it("stops with both ids when the factory stores the schematic under another id", async ({ expect }) => {
    const other = "0".repeat(64);
    const fetchOther = (async () =>
      new Response(JSON.stringify({ id: other, schematic: schematic.yaml }), {
        status: 201,
      })) as typeof fetch;
    await expect(registerSchematic({ baseURL: BASE, fetch: fetchOther }, schematic)).rejects.toThrowError(
      new RegExp(`stored the schematic as ${other}, but homelab computed ${schematic.id}`),
    );
  });

  it("reports a refusal with its status and an unreachable factory as UNREACHABLE", async ({ expect }) => {
    const refuse = (async () => new Response("bad schematic", { status: 400 })) as typeof fetch;
    await expect(registerSchematic({ baseURL: BASE, fetch: refuse }, schematic)).rejects.toMatchObject({
      code: "UNREACHABLE",
      details: { status: 400 },
    });
    const down = (async () => {
      throw new TypeError("fetch failed");
    }) as typeof fetch;
    await expect(registerSchematic({ baseURL: BASE, fetch: down }, schematic)).rejects.toMatchObject({
      code: "UNREACHABLE",
    });
  });
});
