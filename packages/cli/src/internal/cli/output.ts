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

/** A progress step: a spinner on a TTY, plain start/done lines otherwise, nothing with --json/--quiet. */
export interface Step {
  update(message: string): void;
  done(message?: string): void;
  fail(message?: string): void;
  /** The run was interrupted while this step ran (said as such, never as a failure). */
  interrupted(): void;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

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
    if (!this.spinners) {
      this.ctx.stderr.write(`${title}…\n`);
      return {
        update: (m) => this.ctx.stderr.write(`  ${m}\n`),
        done: (m) => this.ctx.stderr.write(`${this.styleErr("green", "✓")} ${m ?? title}${elapsed()}\n`),
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
        text = `${title}: ${m}`;
      },
      done: (m) => {
        stop();
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
