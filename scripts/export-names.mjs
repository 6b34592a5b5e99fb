// The public surface of a package: every name its entry point exports (values and types), as the
// TypeScript checker sees it. Used by each package's exports test, which holds the list against a
// committed snapshot so that a new or removed export is a visible decision in review.
import { join } from "node:path";
import ts from "typescript";
import { describe, it } from "vitest";

/**
 * @param {string} entry absolute path of the package's src/index.ts (or another entry)
 * @returns {string[]} sorted lines "name" for values and "type name" for type-only exports
 */
export function exportNames(entry) {
  const program = ts.createProgram([entry], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(entry);
  const moduleSymbol = file && checker.getSymbolAtLocation(file);
  if (!moduleSymbol) throw new Error(`${entry}: not a module`);
  return checker
    .getExportsOfModule(moduleSymbol)
    .map((symbol) => {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      return target.flags & ts.SymbolFlags.Value ? symbol.name : `type ${symbol.name}`;
    })
    .sort((a, b) => a.replace(/^type /, "").localeCompare(b.replace(/^type /, "")));
}

/**
 * The exports test of a package: each entry's export list must equal the committed snapshot
 * `test/exports/<entry without /index>.txt`. Update with `vitest run test/exports.test.ts -u`.
 * @param {string} testDir the package's test directory (`import.meta.dirname` of the test file)
 * @param {string[]} [entries] entries under src/, without `.ts` (default `["index"]`)
 */
export function describeExports(testDir, entries = ["index"]) {
  describe("public surface", () => {
    it.for(entries)(
      "src/%s.ts exports exactly the names in test/exports/",
      { timeout: 120_000 },
      async (entry, { expect }) => {
        const names = exportNames(join(testDir, "..", "src", `${entry}.ts`));
        await expect(`${names.join("\n")}\n`).toMatchFileSnapshot(
          join(testDir, "exports", `${entry.replace("/index", "")}.txt`),
        );
      },
    );
  });
}
