import { type CommandSpec, GLOBAL_OPTIONS, type OptionSpec } from "./spec.js";

function optionLines(options: Record<string, OptionSpec>): string[] {
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.type === "string" ? ` ${o.valueName ?? "VALUE"}` : ""}`;
    const choices = o.choices ? ` (${o.choices.join("|")})` : "";
    return [flag, `${o.description}${choices}`] as const;
  });
  const width = Math.max(0, ...rows.map(([f]) => f.length));
  return rows.map(([f, d]) => `  ${f.padEnd(width)}  ${d}`);
}

/** Renders `--help` text for a command at `path`. */
export function renderHelp(spec: CommandSpec, path: string[], version: string): string {
  const full = ["homelab", ...path].join(" ");
  const lines: string[] = [];
  if (path.length === 0) lines.push(`homelab ${version}: ${spec.summary}`, "");
  else lines.push(`${full}: ${spec.summary}`, "");
  if (spec.description) lines.push(spec.description, "");
  const args = (spec.args ?? []).map((a) => {
    const n = `${a.name.toUpperCase()}${a.variadic ? "..." : ""}`;
    return a.required ? n : `[${n}]`;
  });
  if (spec.subcommands?.length) {
    lines.push(`Usage: ${full} <command> [options]`, "", "Commands:");
    const width = Math.max(...spec.subcommands.map((c) => c.name.length));
    for (const c of spec.subcommands) lines.push(`  ${c.name.padEnd(width)}  ${c.summary}`);
    lines.push("");
  } else {
    lines.push(`Usage: ${[full, ...args].join(" ")} [options]`, "");
  }
  if (spec.args?.length) {
    lines.push("Arguments:");
    const width = Math.max(...spec.args.map((a) => a.name.length));
    for (const a of spec.args) lines.push(`  ${a.name.toUpperCase().padEnd(width)}  ${a.description}`);
    lines.push("");
  }
  if (spec.options && Object.keys(spec.options).length > 0) {
    lines.push("Options:", ...optionLines(spec.options), "");
  }
  lines.push("Global options:", ...optionLines(GLOBAL_OPTIONS), "");
  if (spec.examples?.length) {
    lines.push("Examples:", ...spec.examples.map((e) => `  ${e}`), "");
  }
  if (spec.subcommands?.length) lines.push(`Run '${full} <command> --help' for a command's options.`, "");
  return lines.join("\n");
}
