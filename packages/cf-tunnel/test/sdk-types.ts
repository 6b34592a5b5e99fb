import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const here = dirname(fileURLToPath(import.meta.url));

/** A JSON Schema (draft 7 subset) as ajv takes it. */
export type JsonSchema = Record<string, unknown>;

/**
 * JSON Schemas computed by the TypeScript checker from the `cloudflare` SDK's own declarations, for
 * the fields newer than the OpenAPI snapshot in ../shared/cloudflare (2024-08-06), which lacks them:
 * each entry of `types` is a type expression over the named imports, e.g.
 * `NonNullable<ApplicationCreateParams.SelfHostedApplication["destinations"]>`.
 *
 * The mapping: string/number/boolean; string or boolean literals as `const`/`enum`; arrays;
 * interfaces and object types as objects whose optional properties are the `?` ones (the SDK's own
 * types allow no other property: `additionalProperties: false` unless `open` names the type);
 * unions as `anyOf`; `unknown`/`any` as anything.
 */
export function sdkSchemas(
  imports: Record<string, string[]>,
  types: Record<string, string>,
  open: readonly string[] = [],
): Record<string, JsonSchema> {
  const file = join(here, "__sdk_types__.ts");
  const lines = Object.entries(imports).map(
    ([module, names]) => `import type { ${names.join(", ")} } from "${module}";`,
  );
  const names = Object.keys(types);
  names.forEach((name, i) => {
    lines.push(`export type T${i} = ${types[name]};`);
  });
  const text = lines.join("\n");
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) =>
    name === file ? ts.createSourceFile(name, text, language) : getSourceFile(name, language, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  const diagnostics = ts.getPreEmitDiagnostics(program, program.getSourceFile(file));
  if (diagnostics.length > 0) {
    throw new Error(
      `the SDK types did not resolve: ${diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, " ")).join("; ")}`,
    );
  }
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file) as ts.SourceFile;
  const aliases = source.statements.filter(ts.isTypeAliasDeclaration);

  const toSchema = (type: ts.Type, depth: number): JsonSchema => {
    if (depth > 12) return {};
    const flags = type.flags;
    if (flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return {};
    if (flags & ts.TypeFlags.StringLiteral) return { const: (type as ts.StringLiteralType).value };
    if (flags & ts.TypeFlags.NumberLiteral) return { const: (type as ts.NumberLiteralType).value };
    if (flags & ts.TypeFlags.BooleanLiteral) return { const: checker.typeToString(type) === "true" };
    if (flags & ts.TypeFlags.String) return { type: "string" };
    if (flags & ts.TypeFlags.Number) return { type: "number" };
    if (flags & ts.TypeFlags.Boolean) return { type: "boolean" };
    if (flags & ts.TypeFlags.Null) return { type: "null" };
    if (type.isUnion()) {
      const members = type.types.filter((t) => !(t.flags & ts.TypeFlags.Undefined));
      if (members.length === 1 && members[0] !== undefined) return toSchema(members[0], depth + 1);
      return { anyOf: members.map((t) => toSchema(t, depth + 1)) };
    }
    if (checker.isArrayType(type)) {
      const [element] = checker.getTypeArguments(type as ts.TypeReference);
      return { type: "array", items: element === undefined ? {} : toSchema(element, depth + 1) };
    }
    if (flags & ts.TypeFlags.Object) {
      const properties: Record<string, JsonSchema> = {};
      const required: string[] = [];
      for (const property of checker.getPropertiesOfType(type)) {
        const propertyType = checker.getTypeOfSymbol(property);
        properties[property.name] = toSchema(propertyType, depth + 1);
        if (!(property.flags & ts.SymbolFlags.Optional)) required.push(property.name);
      }
      const name = type.aliasSymbol?.name ?? type.getSymbol()?.name ?? "";
      return {
        type: "object",
        properties,
        ...(required.length > 0 ? { required } : {}),
        additionalProperties: open.includes(name),
      };
    }
    return {};
  };

  return Object.fromEntries(
    names.map((name, i) => {
      const alias = aliases.find((a) => a.name.text === `T${i}`) as ts.TypeAliasDeclaration;
      return [name, toSchema(checker.getTypeAtLocation(alias.name), 0)];
    }),
  );
}
