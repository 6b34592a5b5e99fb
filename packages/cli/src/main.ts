import { parseArgs } from "node:util";
import pkg from "../package.json" with { type: "json" };
import { type Context, createContext, type TextSink } from "./context.js";
import {
  type CommandDef,
  GLOBAL_OPTIONS,
  type Loader,
  type OptionDefs,
  type OptionValues,
  type TreeNode,
} from "./internal/cli/command.js";
import { renderCommandHelp, renderGroupHelp } from "./internal/cli/help.js";
import type { GlobalFlags } from "./internal/cli/output.js";
import { ROOT } from "./internal/commands/index.js";
import { didYouMean } from "./internal/config/suggest.js";

/** Options of {@link main}. */
export interface MainOptions {
  /** Arguments without the node and script paths. */
  argv: readonly string[];
  /** The process seams; built with `createContext`. Alternatively pass stdout/stderr only. */
  context?: Context;
  stdout?: TextSink;
  stderr?: TextSink;
}

/** The version of this CLI package. */
export const version: string = pkg.version;

interface Resolved {
  node: TreeNode;
  path: string[];
  rest: string[];
  unknown?: string;
}

const GLOBAL_WITH_VALUE = new Set(
  Object.entries(GLOBAL_OPTIONS as OptionDefs).flatMap(([name, o]) =>
    o.type === "string" ? [`--${name}`, ...(o.short ? [`-${o.short}`] : [])] : [],
  ),
);

/** Walks argv down the tree, loading only the groups and the command on the way. */
async function resolveCommand(argv: readonly string[]): Promise<Resolved> {
  let node: TreeNode = ROOT;
  const path: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    if (token.startsWith("-")) {
      rest.push(token);
      if (GLOBAL_WITH_VALUE.has(token) && i + 1 < argv.length) rest.push(argv[++i] as string);
      continue;
    }
    if (node.kind === "group") {
      const load: Loader | undefined = Object.hasOwn(node.commands, token) ? node.commands[token] : undefined;
      if (!load) return { node, path, rest, unknown: token };
      node = await load();
      path.push(token);
      continue;
    }
    rest.push(token);
  }
  return { node, path, rest };
}

function parseOptions(def: CommandDef | undefined, rest: string[]) {
  const all: OptionDefs = { ...GLOBAL_OPTIONS, ...(def?.options ?? {}) };
  const options: Record<string, { type: "boolean" | "string"; short?: string; multiple?: boolean }> = {};
  for (const [name, o] of Object.entries(all)) {
    options[name] = { type: o.type };
    if (o.short) (options[name] as { short?: string }).short = o.short;
    if (o.multiple) (options[name] as { multiple?: boolean }).multiple = true;
  }
  const parsed = parseArgs({ args: rest, options, strict: true, allowPositionals: true });
  for (const [name, o] of Object.entries(all)) {
    const v = parsed.values[name];
    if (o.choices && typeof v === "string" && !o.choices.includes(v))
      throw new UsageError(`--${name} must be one of ${o.choices.join(", ")} (got '${v}')`);
  }
  return parsed;
}

class UsageError extends Error {
  override readonly name = "UsageError";
}

function suggest(word: string, names: string[]): string {
  const close = names.filter((n) => n.startsWith(word.slice(0, 2)) || word.startsWith(n.slice(0, 3)));
  return close.length > 0 ? ` (did you mean ${close.map((c) => `'${c}'`).join(" or ")}?)` : "";
}

async function helpOf(node: TreeNode, path: string[]): Promise<string> {
  if (node.kind === "command") return renderCommandHelp(node, path, version);
  const children = await Promise.all(Object.values(node.commands).map((load) => load()));
  return renderGroupHelp(node, children, path, version);
}

/**
 * Runs the CLI for `argv` and resolves to the exit code (0 ok, 1 failure, 2 usage or
 * "changes" for plan, 130 interrupted). Never calls process.exit.
 */
export async function main(options: MainOptions): Promise<number> {
  const ctx =
    options.context ??
    createContext({
      ...(options.stdout ? { stdout: options.stdout } : {}),
      ...(options.stderr ? { stderr: options.stderr } : {}),
    });
  const argv = options.argv;
  const rawJson = argv.includes("--json");
  const flagsForErrors = { json: rawJson };
  const usage = async (message: string, node: TreeNode, path: string[]): Promise<number> => {
    if (flagsForErrors.json) {
      ctx.stdout.write(
        `${JSON.stringify({ error: { code: "USAGE", source: "homelab", message } }, null, 2)}\n`,
      );
    } else {
      ctx.stderr.write(`homelab: ${message}\n\n${await helpOf(node, path)}`);
    }
    return 2;
  };

  const resolved = await resolveCommand(argv);
  const { node, path } = resolved;
  if (resolved.unknown !== undefined) {
    if (path.length === 0 && (argv.includes("--version") || argv.includes("-v"))) {
      ctx.stdout.write(`${version}\n`);
      return 0;
    }
    const names = node.kind === "group" ? Object.keys(node.commands) : [];
    return usage(`unknown command '${resolved.unknown}'${suggest(resolved.unknown, names)}`, node, path);
  }
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(node.kind === "command" ? node : undefined, resolved.rest);
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional.*$/s, "");
    const unknown = /^Unknown option '(-{1,2}[^']+)'/.exec(message)?.[1];
    const options = node.kind === "command" ? node.options : {};
    const names = Object.keys({ ...GLOBAL_OPTIONS, ...(options ?? {}) }).map((n) => `--${n}`);
    const hint = unknown?.startsWith("--") ? didYouMean(unknown, names) : "";
    return usage(`${message}${hint}`, node, path);
  }
  const v = parsed.values;
  if (v.help) {
    ctx.stdout.write(await helpOf(node, path));
    return 0;
  }
  if (v.version && path.length === 0) {
    ctx.stdout.write(rawJson ? `${JSON.stringify({ version })}\n` : `${version}\n`);
    return 0;
  }
  if (node.kind === "group") {
    if (path.length === 0 && parsed.positionals.length === 0) {
      ctx.stdout.write(await helpOf(node, path));
      return 0;
    }
    return usage(`missing command after '${["homelab", ...path].join(" ")}'`, node, path);
  }
  const positionals = parsed.positionals.filter((p) => p !== "--");
  const required = node.args.filter((a) => a.required);
  const variadic = node.args.some((a) => a.variadic);
  if (positionals.length < required.length) {
    return usage(`missing argument ${required[positionals.length]?.name.toUpperCase()}`, node, path);
  }
  if (!variadic && positionals.length > node.args.length) {
    return usage(`unexpected argument '${positionals[node.args.length]}'`, node, path);
  }

  const flags: GlobalFlags = {
    config: typeof v.config === "string" ? v.config : undefined,
    json: v.json === true,
    yes: v.yes === true,
    quiet: v.quiet === true,
    verbose: v.verbose === true,
  };
  const [{ Output }, { presentError }] = await Promise.all([
    import("./internal/cli/output.js"),
    import("./internal/cli/error-table.js"),
  ]);
  const out = new Output(ctx, flags);
  const deferred: (() => Promise<void>)[] = [];
  try {
    const code = await node.run({
      ctx,
      out,
      flags,
      args: positionals,
      options: v as OptionValues<OptionDefs>,
      path,
      root: ROOT,
      defer: (cleanup) => deferred.push(cleanup),
    });
    return code ?? 0;
  } catch (error) {
    out.stopSpinner();
    const p = presentError(error, ctx.signal.aborted, {
      options: Object.keys({ ...GLOBAL_OPTIONS, ...(node.options ?? {}) }).map((n) => `--${n}`),
    });
    if (flags.json) {
      const doc: Record<string, unknown> = { code: p.code, source: p.source, message: p.message };
      if (p.hint) doc.hint = p.hint;
      if (p.issues) doc.issues = p.issues;
      if (out.stepsDone.length > 0) doc.stepsDone = out.stepsDone;
      if (!out.resultWritten) ctx.stdout.write(`${JSON.stringify({ error: doc }, null, 2)}\n`);
    } else {
      const label = out.styleErr("red", "error");
      const tag = p.source === "homelab" ? p.code : `${p.source} ${p.code}`;
      ctx.stderr.write(`homelab: ${label} [${tag}]: ${p.message}\n`);
      if (p.hint) ctx.stderr.write(`  hint: ${p.hint}\n`);
      if (flags.verbose && error instanceof Error && error.stack && p.code === "INTERNAL")
        ctx.stderr.write(`${error.stack}\n`);
    }
    return p.exit;
  } finally {
    for (const cleanup of deferred.reverse()) await cleanup();
  }
}
