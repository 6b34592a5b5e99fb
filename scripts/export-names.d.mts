/** Sorted export names of a TypeScript entry point: "name" for values, "type name" for types. */
export function exportNames(entry: string): string[];
