import { type CommandDef, GLOBAL_OPTIONS, type GroupDef, type OptionDefs, type TreeNode } from "./command.js";

function optionLines(options: OptionDefs): string[] {
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.type === "string" ? ` ${o.valueName ?? "VALUE"}` : ""}`;
    const choices = o.choices ? ` (${o.choices.join("|")})` : "";
    return [flag, `${o.description}${choices}`] as const;
  });
  const width = Math.max(0, ...rows.map(([f]) => f.length));
  return rows.map(([f, d]) => `  ${f.padEnd(width)}  ${d}`);
}

function header(node: TreeNode, path: string[], version: string): string[] {
  const full = ["homelab", ...path].join(" ");
  const lines = [path.length === 0 ? `homelab ${version}: ${node.summary}` : `${full}: ${node.summary}`, ""];
  if (node.description) lines.push(node.description, "");
  return lines;
}

/** `--help` of a command, generated from its definition. */
export function renderCommandHelp(def: CommandDef, path: string[], version: string): string {
  const full = ["homelab", ...path].join(" ");
  const lines = header(def, path, version);
  const args = def.args.map((a) => {
    const n = `${a.name.toUpperCase()}${a.variadic ? "..." : ""}`;
    return a.required ? n : `[${n}]`;
  });
  lines.push(`Usage: ${[full, ...args].join(" ")} [options]`, "");
  if (def.args.length > 0) {
    lines.push("Arguments:");
    const width = Math.max(...def.args.map((a) => a.name.length));
    for (const a of def.args) lines.push(`  ${a.name.toUpperCase().padEnd(width)}  ${a.description}`);
    lines.push("");
  }
  if (Object.keys(def.options).length > 0) lines.push("Options:", ...optionLines(def.options), "");
  lines.push("Global options:", ...optionLines(GLOBAL_OPTIONS), "");
  if (def.examples?.length) lines.push("Examples:", ...def.examples.map((e) => `  ${e}`), "");
  return lines.join("\n");
}

/** `--help` of a group: its commands (loaded for their summaries) and the global options. */
export function renderGroupHelp(
  group: GroupDef,
  children: readonly TreeNode[],
  path: string[],
  version: string,
): string {
  const full = ["homelab", ...path].join(" ");
  const lines = header(group, path, version);
  lines.push(`Usage: ${full} <command> [options]`, "", "Commands:");
  const width = Math.max(...children.map((c) => c.name.length));
  for (const c of children) lines.push(`  ${c.name.padEnd(width)}  ${c.summary}`);
  lines.push("", "Global options:", ...optionLines(GLOBAL_OPTIONS), "");
  lines.push(`Run '${full} <command> --help' for a command's options.`, "");
  return lines.join("\n");
}
