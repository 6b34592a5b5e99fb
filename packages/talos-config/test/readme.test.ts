import { describe, it } from "vitest";
import * as lib from "../src/index.js";
import { runReadmeExample } from "./helpers/readme.js";

describe("README example", () => {
  it("runs against the package and lints clean when evaluated", ({ expect }) => {
    const { values } = runReadmeExample({ returns: ["patches", "findings", "text", "schematic"] });
    const { patches, findings, text, schematic } = values as {
      patches: lib.ConfigDocument[];
      findings: lib.LintFinding[];
      text: string;
      schematic: lib.Schematic;
    };
    expect(findings).toEqual([]);
    expect(patches.map(lib.documentLabel)).toEqual([
      "v1alpha1",
      "HostnameConfig",
      "LinkConfig/eno1",
      "ResolverConfig",
      "ExtensionServiceConfig/cloudflared",
      "ExtensionServiceConfig/tailscale",
    ]);
    expect(text).toContain("TUNNEL_TOKEN=<redacted>");
    expect(text).not.toContain("TUNNEL-TOKEN-FROM-CLOUDFLARE");
    expect(text).toContain(`image: factory.talos.dev/installer/${schematic.id}:v1.13.9`);
  });
});
