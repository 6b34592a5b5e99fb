import { styleText } from "node:util";
import type { Context } from "../../context.js";

type Format = Parameters<typeof styleText>[0];

/** Global flags every command understands. */
export interface GlobalFlags {
  config: string | undefined;
  json: boolean;
  yes: boolean;
  quiet: boolean;
  verbose: boolean;
}

/**
 * A library progress event. Retry events (cf-tunnel `retry`, argo-bootstrap `api-error`, Talos
 * `retry` from the CLI's onRetry) are shown once per burst, with the reason and the wait.
 */
export interface ProgressLike {
  type: string;
  message: string;
  [key: string]: unknown;
}

/** One retry of a client, as the user sees it. */
export interface RetryNotice {
  /** Which client or target, e.g. "Cloudflare API", "Kubernetes API", "node1 (192.168.50.200)". */
  source: string;
  /** Why, without the attempt counter (the burst is keyed on it). */
  reason: string;
  /** Wait before the next try, when known. */
  waitMs?: number;
}

/** A progress step: a spinner on a TTY, plain start/done lines otherwise, nothing with --json/--quiet. */
export interface Step {
  /** A status line, or a library event (retries are reported once per burst, not once per try). */
  update(message: string | ProgressLike): void;
  done(message?: string): void;
  fail(message?: string): void;
  /** The run was interrupted while this step ran (said as such, never as a failure). */
  interrupted(): void;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** While a burst goes on, a reminder line at most this often. */
const RETRY_REMINDER_MS = 30_000;

function formatWait(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms >= 10_000 ? 0 : 1)}s` : `${Math.round(ms)}ms`;
}

/** The retry in a library event, or undefined when the event is not a retry. */
export function retryOf(event: ProgressLike): RetryNotice | undefined {
  const wait = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? { waitMs: v } : {});
  if (event.type === "retry" && typeof event.delayMs === "number") {
    // cf-tunnel: "<status> while <what>; retrying in N ms (attempt a of b)"
    return {
      source: "Cloudflare API",
      reason: event.message.replace(/; retrying in .*$/, ""),
      ...wait(event.delayMs),
    };
  }
  if (event.type === "api-error")
    return {
      source: "Kubernetes API",
      reason: event.message.replace(/^retrying after: /, ""),
      ...wait(event.waitMs),
    };
  if (event.type === "talos-retry" && typeof event.source === "string")
    return { source: event.source, reason: event.message, ...wait(event.waitMs) };
  return undefined;
}

/** True when colour is allowed: stderr/stdout is a TTY, not --json, and NO_COLOR is unset or empty. */
export function colorEnabled(ctx: Context, flags: Pick<GlobalFlags, "json">, tty: boolean): boolean {
  if (flags.json || !tty) return false;
  const noColor = ctx.env.NO_COLOR;
  if (noColor !== undefined && noColor !== "") return false;
  if (ctx.env.NODE_DISABLE_COLORS !== undefined && ctx.env.NODE_DISABLE_COLORS !== "") return false;
  if (ctx.env.TERM === "dumb") return false;
  return true;
}

/** Owns stdout/stderr for one invocation: results to stdout, everything else to stderr. */
export class Output {
  readonly ctx: Context;
  readonly flags: GlobalFlags;
  readonly colorOut: boolean;
  readonly colorErr: boolean;
  readonly spinners: boolean;
  #resultWritten = false;
  #activeSpinner: { stop(): void } | undefined;
  readonly #bursts = new Map<string, { reason: string; count: number; since: number; lastLine: number }>();

  constructor(ctx: Context, flags: GlobalFlags) {
    this.ctx = ctx;
    this.flags = flags;
    this.colorOut = colorEnabled(ctx, flags, ctx.isTTY.stdout);
    this.colorErr = colorEnabled(ctx, flags, ctx.isTTY.stderr);
    const ci = ctx.env.CI !== undefined && ctx.env.CI !== "" && ctx.env.CI !== "false";
    this.spinners = ctx.isTTY.stderr && !flags.json && !flags.quiet && !ci && ctx.env.TERM !== "dumb";
  }

  /** Styles text for stdout (no-op without colour). */
  style(format: Format, text: string): string {
    return this.colorOut ? styleText(format, text, { validateStream: false }) : text;
  }

  /** Styles text for stderr (no-op without colour). */
  styleErr(format: Format, text: string): string {
    return this.colorErr ? styleText(format, text, { validateStream: false }) : text;
  }

  readonly #stepsDone: unknown[] = [];

  /** Records a completed step; on failure, `--json` includes them in the error document. */
  stepDone(step: unknown): void {
    this.#stepsDone.push(step);
  }

  /** The steps recorded with {@link stepDone}. */
  get stepsDone(): readonly unknown[] {
    return this.#stepsDone;
  }

  get resultWritten(): boolean {
    return this.#resultWritten;
  }

  /** Writes the command's result: `value` as one JSON document with --json, else `text`. */
  result(value: unknown, text: string | (() => string)): void {
    if (this.flags.json) {
      if (this.#resultWritten) throw new Error("a command wrote two JSON results");
      this.#resultWritten = true;
      this.ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
      return;
    }
    this.#resultWritten = true;
    const t = typeof text === "function" ? text() : text;
    if (t !== "") this.ctx.stdout.write(t.endsWith("\n") ? t : `${t}\n`);
  }

  /** Raw text to stdout (not in --json mode), e.g. a file's content. */
  print(text: string): void {
    if (this.flags.json) return;
    this.ctx.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
  }

  info(message: string): void {
    if (this.flags.quiet || this.flags.json) return;
    this.#clearSpinnerLine();
    this.ctx.stderr.write(`${message}\n`);
  }

  debug(message: string): void {
    if (!this.flags.verbose) return;
    this.#clearSpinnerLine();
    this.ctx.stderr.write(`${this.styleErr("dim", `debug: ${message}`)}\n`);
  }

  warn(message: string): void {
    this.#clearSpinnerLine();
    this.ctx.stderr.write(`${this.styleErr("yellow", "warning:")} ${message}\n`);
  }

  /**
   * Reports a retry: one line when a burst of a client's retries starts, a reminder at most every
   * 30 s while it lasts, nothing for the tries in between. A burst lasts until its step ends
   * ({@link retryDone}): polls that succeed in between do not start a new one.
   */
  retry(notice: RetryNotice): void {
    if (this.flags.quiet || this.flags.json) return;
    const now = this.ctx.clock.now();
    const burst = this.#bursts.get(notice.source);
    const wait = notice.waitMs === undefined ? "" : `; next try in ${formatWait(notice.waitMs)}`;
    if (burst) {
      // the same client failing again (another object, another poll) is the same burst
      burst.count++;
      if (now - burst.lastLine < RETRY_REMINDER_MS) return;
      burst.lastLine = now;
      this.#clearSpinnerLine();
      this.ctx.stderr.write(
        `  ${notice.source}: still retrying (${burst.count} tries in ${formatWait(now - burst.since)}): ${notice.reason}${wait}\n`,
      );
      return;
    }
    this.#bursts.set(notice.source, { reason: notice.reason, count: 1, since: now, lastLine: now });
    this.#clearSpinnerLine();
    this.ctx.stderr.write(
      `  ${this.styleErr("yellow", "retrying")} ${notice.source}: ${notice.reason}${wait}\n`,
    );
  }

  /** Ends the retry bursts (of `source`, or all): the next retry prints a line again. */
  retryDone(source?: string): void {
    if (source === undefined) this.#bursts.clear();
    else this.#bursts.delete(source);
  }

  #clearSpinnerLine(): void {
    if (this.#activeSpinner) this.ctx.stderr.write("\r\x1b[2K");
  }

  /** Starts a progress step. */
  step(title: string): Step {
    const silent = this.flags.quiet || this.flags.json;
    if (silent) return { update() {}, done() {}, fail() {}, interrupted() {} };
    const start = this.ctx.clock.now();
    const elapsed = () => {
      const ms = this.ctx.clock.now() - start;
      return ms >= 1000 ? ` (${(ms / 1000).toFixed(1)}s)` : "";
    };
    // a retry goes to the burst reporter, which prints it once for the step (or when the reason changes)
    const event = (m: string | ProgressLike): string | undefined => {
      if (typeof m === "string") return m;
      const retry = retryOf(m);
      if (retry) {
        this.retry(retry);
        return undefined;
      }
      return m.message;
    };
    if (!this.spinners) {
      this.ctx.stderr.write(`${title}…\n`);
      return {
        update: (m) => {
          const text = event(m);
          if (text !== undefined) this.ctx.stderr.write(`  ${text}\n`);
        },
        done: (m) => {
          this.retryDone();
          this.ctx.stderr.write(`${this.styleErr("green", "✓")} ${m ?? title}${elapsed()}\n`);
        },
        fail: (m) => this.ctx.stderr.write(`${this.styleErr("red", "✗")} ${m ?? title}\n`),
        interrupted: () => this.ctx.stderr.write(`${this.styleErr("yellow", "!")} ${title}: interrupted\n`),
      };
    }
    let frame = 0;
    let text = title;
    const draw = () => {
      this.ctx.stderr.write(
        `\r\x1b[2K${this.styleErr("cyan", FRAMES[frame % FRAMES.length] ?? "-")} ${text}`,
      );
      frame++;
    };
    draw();
    const timer = setInterval(draw, 80);
    timer.unref?.();
    const stop = () => {
      clearInterval(timer);
      this.ctx.stderr.write("\r\x1b[2K");
      this.#activeSpinner = undefined;
    };
    this.#activeSpinner?.stop();
    this.#activeSpinner = { stop };
    return {
      update: (m) => {
        const message = event(m);
        if (message !== undefined) text = `${title}: ${message}`;
      },
      done: (m) => {
        stop();
        this.retryDone();
        this.ctx.stderr.write(`${this.styleErr("green", "✓")} ${m ?? title}${elapsed()}\n`);
      },
      fail: (m) => {
        stop();
        this.ctx.stderr.write(`${this.styleErr("red", "✗")} ${m ?? title}\n`);
      },
      interrupted: () => {
        stop();
        this.ctx.stderr.write(`${this.styleErr("yellow", "!")} ${title}: interrupted\n`);
      },
    };
  }

  /** Stops any running spinner (on errors). */
  stopSpinner(): void {
    this.#activeSpinner?.stop();
  }
}
