import type { Context } from "../../context.js";
import type { GlobalFlags, Output } from "./output.js";

/** One option of a command. */
export interface OptionSpec {
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
export interface ArgSpec {
  name: string;
  description: string;
  required?: boolean;
  variadic?: boolean;
}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

/** What a command handler receives. */
export interface Invocation {
  ctx: Context;
  out: Output;
  flags: GlobalFlags;
  args: string[];
  options: OptionValues;
  /** The command path, e.g. ["talos", "version"]. */
  path: string[];
}

/** A command handler: resolves to the exit code (default 0). */
export type RunFn = (inv: Invocation) => Promise<number | undefined>;

/** A declarative command: metadata is eager (for --help), the handler is lazily imported. */
export interface CommandSpec {
  name: string;
  summary: string;
  description?: string;
  args?: ArgSpec[];
  options?: Record<string, OptionSpec>;
  subcommands?: CommandSpec[];
  examples?: string[];
  /** Loads the handler module (dynamic import keeps --help and --version fast). */
  load?: () => Promise<RunFn>;
}

/** Options every command accepts. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
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
