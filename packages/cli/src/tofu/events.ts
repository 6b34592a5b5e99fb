/** Change actions tofu reports for a resource. */
export type TofuAction =
  | "noop"
  | "create"
  | "read"
  | "update"
  | "replace"
  | "delete"
  | "move"
  | "import"
  | "forget";

/** A diagnostic (error or warning) with its source location when tofu reported one. */
export interface TofuDiagnostic {
  severity: "error" | "warning";
  summary: string;
  detail: string;
  /** Path relative to the working directory, e.g. `main.tf`. */
  file?: string;
  line?: number;
  column?: number;
  /** The resource address the diagnostic is about, when there is one. */
  address?: string;
}

/** Counts from a `change_summary` message. */
export interface TofuChangeSummary {
  add: number;
  change: number;
  import: number;
  remove: number;
  operation: "plan" | "apply" | "destroy";
}

interface EventBase {
  /** Human-readable one-liner (tofu's own `@message`, secrets already redacted by tofu). */
  message: string;
}

/**
 * A progress event parsed from tofu's machine-readable (`-json`) stream. Events carry no values of
 * variables or outputs, so they are safe to log.
 */
export type TofuEvent =
  | (EventBase & { type: "version"; version: string })
  | (EventBase & { type: "log"; level: string })
  | (EventBase & { type: "diagnostic"; diagnostic: TofuDiagnostic })
  | (EventBase & { type: "planned-change"; address: string; action: TofuAction; reason?: string })
  | (EventBase & { type: "resource-drift"; address: string; action: TofuAction })
  | (EventBase & { type: "change-summary"; changes: TofuChangeSummary })
  | (EventBase & { type: "resource-start"; address: string; action: TofuAction })
  | (EventBase & { type: "resource-progress"; address: string; action: TofuAction; elapsedSeconds: number })
  | (EventBase & {
      type: "resource-complete";
      address: string;
      action: TofuAction;
      elapsedSeconds: number;
      idKey?: string;
      idValue?: string;
    })
  | (EventBase & { type: "resource-errored"; address: string; action: TofuAction; elapsedSeconds: number })
  | (EventBase & { type: "refresh-start" | "refresh-complete"; address: string })
  | (EventBase & { type: "outputs"; outputs: { name: string; sensitive: boolean; action?: string }[] })
  | (EventBase & { type: "init-output"; code?: string })
  | (EventBase & { type: "interrupt" });

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(value: unknown, fallback = ""): string {
  return typeof value === "string" ? value : fallback;
}

function num(value: unknown): number {
  return typeof value === "number" ? value : 0;
}

function addressOf(container: unknown): string {
  if (!isObject(container)) return "";
  const resource = container.resource;
  return isObject(resource) ? str(resource.addr) : "";
}

/** Converts tofu's JSON diagnostic object into a {@link TofuDiagnostic}. @internal */
export function toDiagnostic(raw: unknown): TofuDiagnostic {
  const d = isObject(raw) ? raw : {};
  const diagnostic: TofuDiagnostic = {
    severity: d.severity === "warning" ? "warning" : "error",
    summary: str(d.summary, "unknown error"),
    detail: str(d.detail),
  };
  const range = d.range;
  if (isObject(range)) {
    if (typeof range.filename === "string") diagnostic.file = range.filename;
    const start = range.start;
    if (isObject(start)) {
      if (typeof start.line === "number") diagnostic.line = start.line;
      if (typeof start.column === "number") diagnostic.column = start.column;
    }
  }
  if (typeof d.address === "string" && d.address !== "") diagnostic.address = d.address;
  return diagnostic;
}

/** `file:line:column: summary: detail`, or less when parts are unknown. */
export function formatDiagnostic(diagnostic: TofuDiagnostic): string {
  const where =
    diagnostic.file === undefined
      ? ""
      : `${diagnostic.file}${diagnostic.line === undefined ? "" : `:${diagnostic.line}`}${
          diagnostic.column === undefined ? "" : `:${diagnostic.column}`
        }: `;
  const detail = diagnostic.detail === "" ? "" : `: ${diagnostic.detail.split("\n")[0]}`;
  return `${where}${diagnostic.summary.split("\n")[0]}${detail}`;
}

/**
 * Parses one line of tofu's `-json` stream. Lines that are not JSON objects become `log` events;
 * message types this module does not know are returned as `log` events too (never dropped).
 */
export function parseTofuLine(line: string): TofuEvent | undefined {
  const trimmed = line.trim();
  if (trimmed === "") return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(trimmed);
  } catch {
    return { type: "log", level: "info", message: trimmed };
  }
  if (!isObject(raw)) return { type: "log", level: "info", message: trimmed };
  const message = str(raw["@message"]);
  const hook = raw.hook;
  const hookAction = (isObject(hook) ? str(hook.action, "noop") : "noop") as TofuAction;
  switch (raw.type) {
    case "version":
      return { type: "version", message, version: str(raw.terraform, str(raw.tofu)) };
    case "diagnostic":
      return { type: "diagnostic", message, diagnostic: toDiagnostic(raw.diagnostic) };
    case "planned_change":
    case "resource_drift": {
      const change = isObject(raw.change) ? raw.change : {};
      const action = str(change.action, "noop") as TofuAction;
      if (raw.type === "resource_drift") {
        return { type: "resource-drift", message, address: addressOf(change), action };
      }
      const event: TofuEvent = { type: "planned-change", message, address: addressOf(change), action };
      if (typeof change.reason === "string") event.reason = change.reason;
      return event;
    }
    case "change_summary": {
      const c = isObject(raw.changes) ? raw.changes : {};
      const operation = c.operation === "apply" || c.operation === "destroy" ? c.operation : "plan";
      return {
        type: "change-summary",
        message,
        changes: {
          add: num(c.add),
          change: num(c.change),
          import: num(c.import),
          remove: num(c.remove),
          operation,
        },
      };
    }
    case "apply_start":
      return { type: "resource-start", message, address: addressOf(hook), action: hookAction };
    case "apply_progress":
      return {
        type: "resource-progress",
        message,
        address: addressOf(hook),
        action: hookAction,
        elapsedSeconds: num(isObject(hook) ? hook.elapsed_seconds : 0),
      };
    case "apply_complete": {
      const h = isObject(hook) ? hook : {};
      const event: TofuEvent = {
        type: "resource-complete",
        message,
        address: addressOf(h),
        action: hookAction,
        elapsedSeconds: num(h.elapsed_seconds),
      };
      if (typeof h.id_key === "string") event.idKey = h.id_key;
      if (typeof h.id_value === "string") event.idValue = h.id_value;
      return event;
    }
    case "apply_errored":
      return {
        type: "resource-errored",
        message,
        address: addressOf(hook),
        action: hookAction,
        elapsedSeconds: num(isObject(hook) ? hook.elapsed_seconds : 0),
      };
    case "refresh_start":
    case "refresh_complete":
      return {
        type: raw.type === "refresh_start" ? "refresh-start" : "refresh-complete",
        message,
        address: addressOf(hook),
      };
    case "outputs": {
      const outputs = isObject(raw.outputs) ? raw.outputs : {};
      return {
        type: "outputs",
        message,
        outputs: Object.entries(outputs).map(([name, o]) => {
          const entry: { name: string; sensitive: boolean; action?: string } = {
            name,
            sensitive: isObject(o) && o.sensitive === true,
          };
          if (isObject(o) && typeof o.action === "string") entry.action = o.action;
          return entry;
        }),
      };
    }
    case "init_output": {
      const event: TofuEvent = { type: "init-output", message };
      if (typeof raw.message_code === "string") event.code = raw.message_code;
      return event;
    }
    default:
      return { type: "log", level: str(raw["@level"], "info"), message };
  }
}
