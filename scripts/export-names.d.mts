/** Sorted export names of a TypeScript entry point: "name" for values, "type name" for types. */
export function exportNames(entry: string): string[];

/**
 * Declares the package's exports test: each entry under src/ (default `index`) must export exactly the
 * names in `test/exports/<entry>.txt`; `vitest run test/exports.test.ts -u` updates the snapshot.
 */
export function describeExports(testDir: string, entries?: string[]): void;
