import { readFileSync } from "node:fs";
import ts from "typescript";
import * as lib from "../../src/index.js";

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

/**
 * Runs the first ```ts block of the README (after the `after` heading when given) against the package
 * source: its `import { ... } from "@talos-homelab/talos-config"` becomes a destructuring of the package,
 * `console.log` calls are captured, and the values of the `returns` constants come back.
 */
export function runReadmeExample(options: { after?: string; returns: readonly string[] }): {
  values: Record<string, unknown>;
  logs: unknown[][];
} {
  const start = options.after === undefined ? 0 : README.indexOf(options.after);
  if (start < 0) throw new Error(`README has no heading ${options.after}`);
  const source = /```ts\n([\s\S]*?)```/.exec(README.slice(start))?.[1];
  if (source === undefined) throw new Error("README has no ts code block there");
  const importMatch = /import\s*\{([^}]*)\}\s*from\s*"@talos-homelab\/talos-config";\n/.exec(source);
  if (importMatch === null) throw new Error("the README example does not import @talos-homelab/talos-config");
  const names = importMatch[1]!
    .split(",")
    .map((n) => n.trim())
    .filter(Boolean);
  const js = ts.transpileModule(source.replace(importMatch[0], ""), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const logs: unknown[][] = [];
  const run = new Function(
    "lib",
    "console",
    `const { ${names.join(", ")} } = lib;\n${js}\nreturn { ${options.returns.join(", ")} };`,
  );
  const values = run(lib, { log: (...args: unknown[]) => logs.push(args) }) as Record<string, unknown>;
  return { values, logs };
}
