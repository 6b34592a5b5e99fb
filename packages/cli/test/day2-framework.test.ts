import { readFile, stat } from "node:fs/promises";
import { describe, it } from "vitest";
import { createContext } from "../src/index.js";
import type { Invocation } from "../src/internal/cli/command.js";
import { Output } from "../src/internal/cli/output.js";
import { runDay2 } from "../src/internal/day2/command.js";
import { journalPath, readJournal } from "../src/internal/day2/journal.js";
import type { Day2Plan, Day2Step } from "../src/internal/day2/operation.js";
import { tempDir } from "./helpers.js";

function invocation(options: { yes?: boolean; json?: boolean; tty?: boolean; signal?: AbortSignal } = {}) {
  let stdout = "";
  let stderr = "";
  const ctx = createContext({
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: {},
    isTTY: { stdin: options.tty ?? false, stdout: false, stderr: false },
    ...(options.tty ? { prompt: async () => "y" } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const flags = {
    config: undefined,
    json: options.json ?? false,
    yes: options.yes ?? false,
    quiet: false,
    verbose: false,
  };
  const inv = {
    ctx,
    out: new Output(ctx, flags),
    flags,
    args: [],
    options: {},
    path: ["upgrade", "demo"],
  } as unknown as Invocation;
  return { inv, stdout: () => stdout, stderr: () => stderr };
}

/** A plan of three steps; `fail` makes the named step throw once. */
function demoPlan(ran: string[], fail: Set<string>): Day2Plan {
  const step = (id: string, kind: Day2Step["kind"], description: string): Day2Step => ({
    id,
    kind,
    node: "cp1",
    description,
    run: async (ctx) => {
      ctx.progress(`working on ${id}`);
      if (fail.delete(id)) throw new Error(`${id} did not come back`);
      ran.push(id);
      return `${id} ok`;
    },
  });
  return {
    operation: "upgrade-demo",
    command: "homelab upgrade demo",
    goal: "v2",
    summary: "demo v1 -> v2 on 1 node(s)",
    steps: [
      step("cordon:cp1", "cordon", "cordon cp1"),
      step("upgrade:cp1", "upgrade", "upgrade cp1 to v2"),
      step("uncordon:cp1", "uncordon", "uncordon cp1"),
    ],
  };
}

describe("runDay2", () => {
  it("refuses without a terminal and without --yes, before planning anything", async ({ expect }) => {
    const dir = await tempDir();
    try {
      const { inv } = invocation();
      let planned = false;
      await expect(
        runDay2(inv, {
          stateDir: dir.dir,
          operation: "upgrade-demo",
          simulate: false,
          plan: async () => {
            planned = true;
            return demoPlan([], new Set());
          },
          question: () => "go?",
        }),
      ).rejects.toMatchObject({ code: "NEEDS_CONFIRMATION" });
      expect(planned).toBe(false);
      expect(await readJournal(dir.dir, "upgrade-demo")).toBeUndefined();
    } finally {
      await dir.cleanup();
    }
  });

  it("stops at the failing step, journals it, and resumes from it when run again", async ({ expect }) => {
    const dir = await tempDir();
    try {
      const ran: string[] = [];
      const fail = new Set(["upgrade:cp1"]);
      const first = invocation({ yes: true });
      const options = {
        stateDir: dir.dir,
        operation: "upgrade-demo",
        simulate: false,
        plan: async () => demoPlan(ran, fail),
        question: () => "go?",
      };
      const error = await runDay2(first.inv, options).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "COMMAND_FAILED" });
      expect((error as Error).message).toContain("stopped at step 2 of 3 (upgrade cp1 to v2)");
      expect((error as { hint: string }).hint).toContain("run `homelab upgrade demo` again");
      expect(ran).toEqual(["cordon:cp1"]);
      const journal = await readJournal(dir.dir, "upgrade-demo");
      expect(journal?.steps["cordon:cp1"]?.status).toBe("done");
      expect(journal?.steps["upgrade:cp1"]).toMatchObject({
        status: "failed",
        detail: "upgrade:cp1 did not come back",
      });
      expect(journal?.finishedAt).toBeUndefined();
      expect((await stat(journalPath(dir.dir, "upgrade-demo"))).mode & 0o777).toBe(0o600);

      const second = invocation({ yes: true, json: true });
      expect(await runDay2(second.inv, options)).toBe(0);
      expect(ran).toEqual(["cordon:cp1", "upgrade:cp1", "uncordon:cp1"]);
      const doc = JSON.parse(second.stdout());
      expect(doc.resumed).toBe(1);
      expect(doc.steps.map((s: { status: string }) => s.status)).toEqual(["skipped", "done", "done"]);
      expect(doc.events.filter((e: { status: string }) => e.status === "progress")).toHaveLength(2);
      const finished = JSON.parse(await readFile(journalPath(dir.dir, "upgrade-demo"), "utf8"));
      expect(finished.finishedAt).toBeTypeOf("string");

      // a finished journal is history: the next run starts afresh
      const third = invocation({ yes: true });
      expect(await runDay2(third.inv, options)).toBe(0);
      expect(third.stderr()).not.toContain("Resuming");
      expect(ran).toHaveLength(6);
    } finally {
      await dir.cleanup();
    }
  });

  it("says it resumes, and shows the steps done earlier in the plan", async ({ expect }) => {
    const dir = await tempDir();
    try {
      const ran: string[] = [];
      const options = {
        stateDir: dir.dir,
        operation: "upgrade-demo",
        simulate: false,
        plan: async () => demoPlan(ran, new Set(["uncordon:cp1"])),
        question: () => "go?",
      };
      await runDay2(invocation({ yes: true }).inv, options).catch(() => undefined);
      const again = invocation({ yes: true });
      await runDay2(again.inv, { ...options, plan: async () => demoPlan(ran, new Set()) });
      expect(again.stderr()).toContain("Resuming the upgrade-demo to v2 started");
      expect(again.stderr()).toContain("2 of 3 step(s) done earlier are skipped");
      expect(again.stderr()).toMatch(/= cordon\s+cordon cp1 \(done earlier\)/);
    } finally {
      await dir.cleanup();
    }
  });

  it("stops before the next step when interrupted and resumes there", async ({ expect }) => {
    const dir = await tempDir();
    try {
      const controller = new AbortController();
      const ran: string[] = [];
      const plan = demoPlan(ran, new Set());
      const first = plan.steps[0] as Day2Step;
      const run = first.run;
      first.run = async (ctx) => {
        const detail = await run(ctx);
        controller.abort();
        return detail;
      };
      const stopped = invocation({ yes: true, signal: controller.signal });
      const error = await runDay2(stopped.inv, {
        stateDir: dir.dir,
        operation: "upgrade-demo",
        simulate: false,
        plan: async () => plan,
        question: () => "go?",
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "INTERRUPTED" });
      expect(ran).toEqual(["cordon:cp1"]);
      const resumed = invocation({ yes: true });
      await runDay2(resumed.inv, {
        stateDir: dir.dir,
        operation: "upgrade-demo",
        simulate: false,
        plan: async () => demoPlan(ran, new Set()),
        question: () => "go?",
      });
      expect(ran).toEqual(["cordon:cp1", "upgrade:cp1", "uncordon:cp1"]);
    } finally {
      await dir.cleanup();
    }
  });

  it("asks on a terminal and changes nothing when declined", async ({ expect }) => {
    const dir = await tempDir();
    try {
      const ran: string[] = [];
      const { inv, stderr } = invocation({ tty: true });
      inv.ctx.prompt = async () => "n";
      const code = await runDay2(inv, {
        stateDir: dir.dir,
        operation: "upgrade-demo",
        simulate: false,
        plan: async () => demoPlan(ran, new Set()),
        question: () => "upgrade demo?",
      });
      expect(code).toBe(1);
      expect(ran).toEqual([]);
      expect(stderr()).toContain("Plan:\ndemo v1 -> v2 on 1 node(s)\n   1.   cordon     cordon cp1");
      expect(await readJournal(dir.dir, "upgrade-demo")).toBeUndefined();
    } finally {
      await dir.cleanup();
    }
  });
});
