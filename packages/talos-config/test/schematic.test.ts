import { describe, it } from "vitest";
import { createSchematic, installerImage, isoUrl, parseSchematic } from "../src/index.js";
import { EMPTY_SCHEMATIC_ID } from "../src/schematic.js";

describe("createSchematic", () => {
  it("gives the factory's empty schematic id when nothing is customised", ({ expect }) => {
    const schematic = createSchematic();
    expect(schematic.yaml).toBe("customization: {}\n");
    expect(schematic.id).toBe("376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba");
    expect(createSchematic({ officialExtensions: [], extraKernelArgs: [] }).id).toBe(EMPTY_SCHEMATIC_ID);
  });

  // Ids published by the Image Factory for these schematics.
  it.for([
    [
      { extraKernelArgs: ["noapic", "nolapic"] },
      "9cba8e32753f91a16c1837ab8abf356af021706ef284aef07380780177d9a06c",
    ],
    [
      { meta: [{ key: 10, value: "foo" }] },
      "d308a2a5ee2277bed5fbaa104fcbc8d59122abfa737df987a95b4ca763459a7f",
    ],
    [
      { secureboot: { includeWellKnownCertificates: true } },
      "fa8e05f142a851d3ee568eb0a8e5841eaf6b0ebc8df9a63df16ac5ed2c04f3e6",
    ],
    [
      { overlay: { name: "rpi_generic", image: "siderolabs/sbc-raspberrypi" } },
      "ee21ef4a5ef808a9b7484cc0dda0f25075021691c8c09a276591eedb638ea1f9",
    ],
    [
      { officialExtensions: ["siderolabs/qemu-guest-agent"] },
      "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515",
    ],
  ] as const)("matches the factory id when the schematic is %j", ([options, id], { expect }) => {
    expect(createSchematic(options as Parameters<typeof createSchematic>[0]).id).toBe(id);
  });

  it("writes the canonical YAML with extensions and kernel args in the factory's order", ({ expect }) => {
    const schematic = createSchematic({
      officialExtensions: ["siderolabs/cloudflared", "siderolabs/tailscale"],
      extraKernelArgs: ["net.ifnames=0", "console=ttyS0,115200"],
    });
    expect(schematic.yaml).toBe(
      [
        "customization:",
        "    extraKernelArgs:",
        "        - net.ifnames=0",
        "        - console=ttyS0,115200",
        "    systemExtensions:",
        "        officialExtensions:",
        "            - siderolabs/cloudflared",
        "            - siderolabs/tailscale",
        "",
      ].join("\n"),
    );
    expect(schematic.id).toMatch(/^[0-9a-f]{64}$/);
    expect(
      createSchematic({ officialExtensions: ["siderolabs/tailscale", "siderolabs/cloudflared"] }).id,
    ).not.toBe(
      createSchematic({ officialExtensions: ["siderolabs/cloudflared", "siderolabs/tailscale"] }).id,
    );
  });

  it("quotes scalars the way Go's yaml.v3 does when plain text would change meaning", ({ expect }) => {
    const schematic = createSchematic({
      extraKernelArgs: ["true", "123", "-", "#x"],
      meta: [{ key: 1, value: "a: b" }],
    });
    expect(schematic.yaml).toContain('        - "true"\n        - "123"\n');
    expect(schematic.yaml).toContain("        - '-'\n        - '#x'\n");
    expect(schematic.yaml).toContain("        - key: 1\n          value: 'a: b'\n");
  });

  it("throws UNKNOWN_EXTENSION naming the entry when an extension is malformed or not known", ({
    expect,
  }) => {
    expect(() => createSchematic({ officialExtensions: ["cloudflared"] })).toThrowError(
      expect.objectContaining({ code: "UNKNOWN_EXTENSION", details: { field: "officialExtensions[0]" } }),
    );
    expect(() =>
      createSchematic({
        officialExtensions: ["siderolabs/tailscale", "siderolabs/wireguardx"],
        knownExtensions: ["siderolabs/tailscale"],
      }),
    ).toThrowError(/officialExtensions\[1\]: siderolabs\/wireguardx is not an official extension/);
  });
});

describe("installerImage", () => {
  it("builds the installer reference for a schematic and version", ({ expect }) => {
    expect(installerImage({ schematicId: EMPTY_SCHEMATIC_ID, version: "1.13.9" })).toBe(
      `factory.talos.dev/installer/${EMPTY_SCHEMATIC_ID}:v1.13.9`,
    );
    expect(
      installerImage({
        schematicId: EMPTY_SCHEMATIC_ID,
        version: "v1.14.0",
        variant: "metal-installer",
        secureboot: true,
      }),
    ).toBe(`factory.talos.dev/metal-installer-secureboot/${EMPTY_SCHEMATIC_ID}:v1.14.0`);
  });

  it("throws when the schematic id is not 64 hex characters", ({ expect }) => {
    expect(() => installerImage({ schematicId: "abc", version: "v1.13.9" })).toThrowError(/schematicId/);
    expect(() => installerImage({ schematicId: EMPTY_SCHEMATIC_ID, version: "v1.9.0" })).toThrowError(
      expect.objectContaining({ code: "UNSUPPORTED_VERSION" }),
    );
  });
});

describe("isoUrl", () => {
  it("builds the ISO URL for each architecture", ({ expect }) => {
    expect(isoUrl({ schematicId: EMPTY_SCHEMATIC_ID, version: "v1.13.9" })).toBe(
      `https://factory.talos.dev/image/${EMPTY_SCHEMATIC_ID}/v1.13.9/metal-amd64.iso`,
    );
    expect(
      isoUrl({ schematicId: EMPTY_SCHEMATIC_ID, version: "v1.15.0", arch: "arm64", secureboot: true }),
    ).toBe(`https://factory.talos.dev/image/${EMPTY_SCHEMATIC_ID}/v1.15.0/metal-arm64-secureboot.iso`);
  });
});

describe("parseSchematic", () => {
  it.for([
    ["{}", "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"],
    [
      'customization: {"extraKernelArgs": []}',
      "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba",
    ],
    [
      '{"customization": {"extraKernelArgs": ["noapic", "nolapic"], "systemExtensions": {}}}',
      "9cba8e32753f91a16c1837ab8abf356af021706ef284aef07380780177d9a06c",
    ],
    [
      '{"customization": {"meta": [{"key": 10, "value": "foo"}], "extraKernelArgs": [], "systemExtensions": {}}}',
      "d308a2a5ee2277bed5fbaa104fcbc8d59122abfa737df987a95b4ca763459a7f",
    ],
    [
      '{"overlay": {"name": "rpi_generic", "image": "siderolabs/sbc-raspberrypi"},"customization":{}}',
      "ee21ef4a5ef808a9b7484cc0dda0f25075021691c8c09a276591eedb638ea1f9",
    ],
  ] as const)("recomputes the factory id when the text is %s", ([text, id], { expect }) => {
    expect(parseSchematic(text).id).toBe(id);
  });

  it("round-trips its own canonical YAML and rejects unknown fields", ({ expect }) => {
    const schematic = createSchematic({
      officialExtensions: ["siderolabs/tailscale"],
      extraKernelArgs: ["net.ifnames=0"],
    });
    expect(parseSchematic(schematic.yaml)).toEqual(schematic);
    expect(() => parseSchematic("customization:\n  extensions: [a]\n")).toThrowError(
      /customization\.extensions: is not a supported schematic field/,
    );
  });
});
