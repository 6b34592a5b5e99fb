import { readFileSync } from "node:fs";
import ts from "typescript";
import { describe, it } from "vitest";
import * as lib from "../src/index.js";

function firstTsBlock(): string {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const match = /```ts\n([\s\S]*?)```/.exec(readme);
  if (!match) throw new Error("README has no ts code block");
  return match[1]!;
}

describe("README example", () => {
  it("runs against the package and lints clean when evaluated", ({ expect }) => {
    const source = firstTsBlock();
    const importMatch = /import\s*\{([^}]*)\}\s*from\s*"@talos-homelab\/talos-config";\n/.exec(source);
    expect(importMatch).not.toBeNull();
    const names = importMatch![1]!
      .split(",")
      .map((n) => n.trim())
      .filter(Boolean);
    const body = source.replace(importMatch![0], "");
    const js = ts.transpileModule(body, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const run = new Function(
      "lib",
      `const { ${names.join(", ")} } = lib;\n${js}\nreturn { patches, findings, text, schematic };`,
    );
    const { patches, findings, text, schematic } = run(lib) as {
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
