import type { Context } from "../../context.js";
import type { GlobalFlags, Output } from "./output.js";

/** One option of a command. */
export interface OptionDef {
  type: "boolean" | "string";
  short?: string;
  multiple?: boolean;
  description: string;
  /** Shown in help, e.g. FILE. */
  valueName?: string;
  /** Allowed values for a string option. */
  choices?: readonly string[];
}

/** One positional argument. */
export interface ArgDef {
  name: string;
  description: string;
  required?: boolean;
  variadic?: boolean;
}

/** A command's options, by name. */
export type OptionDefs = Record<string, OptionDef>;

type ValueOf<D extends OptionDef> = OptionDef extends D
  ? string | boolean | string[] | undefined
  : D["type"] extends "boolean"
    ? boolean | undefined
    : D extends { multiple: true }
      ? string[] | undefined
      : D extends { choices: readonly (infer C)[] }
        ? C | undefined
        : string | undefined;

/** The parsed values of a command's options, typed from its definition. */
export type OptionValues<O extends OptionDefs> = { [K in keyof O]: ValueOf<O[K]> };

/** What a command's `run` receives. */
export interface Invocation<O extends OptionDefs = OptionDefs> {
  ctx: Context;
  out: Output;
  flags: GlobalFlags;
  /** Positional arguments, in the order of the command's `args`. */
  args: string[];
  options: OptionValues<O>;
  /** The command path, e.g. ["talos", "version"]. */
  path: string[];
  /** The root of the command tree (for completion scripts). */
  root: GroupDef;
  /** Runs `cleanup` when the command is done, however it ends (e.g. removes a temp kubeconfig copy). */
  defer(cleanup: () => Promise<void>): void;
}

/** A runnable command: its metadata is the help text, its `run` resolves to the exit code (default 0). */
export interface CommandDef<O extends OptionDefs = OptionDefs> {
  kind: "command";
  name: string;
  summary: string;
  description?: string;
  options: O;
  args: readonly ArgDef[];
  examples?: readonly string[];
  run(inv: Invocation<O>): Promise<number | undefined>;
}

/** A command or a group, loaded on demand. */
export type Loader = () => Promise<TreeNode>;

/** A noun with verbs under it (`talos`, `tunnel`); its verbs load lazily so `--help` stays fast. */
export interface GroupDef {
  kind: "group";
  name: string;
  summary: string;
  description?: string;
  commands: Record<string, Loader>;
}

/** Any node of the tree. */
export type TreeNode = CommandDef | GroupDef;

/**
 * Declares a command: name, summary, options, positional args, examples and `run`. The options
 * object types `inv.options` in `run`; help and parsing are generated from the same definition.
 */
export function defineCommand<const O extends OptionDefs = Record<never, OptionDef>>(def: {
  name: string;
  summary: string;
  description?: string;
  options?: O;
  args?: readonly ArgDef[];
  examples?: readonly string[];
  run(inv: Invocation<O>): Promise<number | undefined>;
}): CommandDef<O> {
  return { kind: "command", ...def, options: def.options ?? ({} as O), args: def.args ?? [] };
}

/** Declares a group of commands; `commands` maps each verb to a dynamic import of its module. */
export function defineGroup(def: Omit<GroupDef, "kind">): GroupDef {
  return { kind: "group", ...def };
}

/** Options every command accepts. */
export const GLOBAL_OPTIONS: OptionDefs = {
  config: {
    type: "string",
    short: "c",
    valueName: "FILE",
    description: "homelab.yaml to use (default ./homelab.yaml)",
  },
  json: { type: "boolean", description: "Print exactly one JSON document on stdout (errors too)" },
  yes: { type: "boolean", short: "y", description: "Assume yes for confirmations (required without a TTY)" },
  quiet: { type: "boolean", short: "q", description: "Only print results and errors" },
  verbose: { type: "boolean", description: "Print debug details on stderr" },
  help: { type: "boolean", short: "h", description: "Show help" },
  version: { type: "boolean", short: "v", description: "Print the version" },
};
