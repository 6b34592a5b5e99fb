import { execFileSync } from "node:child_process";
import { constants } from "node:fs";
import {
  copyFile,
  mkdir,
  open,
  readdir,
  readFile,
  readlink,
  realpath,
  symlink,
  writeFile,
} from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, it } from "vitest";
import type { ConfigIssue } from "../../src/index.js";
import { describeReadError } from "../../src/internal/config/read.js";
import { listFiles, type RunOptions, run, tempDir } from "../helpers.js";

/**
 * The corpus of bad inputs (newcomer-reliability review): every file in cases/ is one broken
 * homelab.yaml with its expected error at the end (`# expect-code:` and one `# expect:` line per
 * issue, `line:col: path: message`). Each is run through `up`, `up --simulate`, `plan` and
 * `doctor`: the same problems, exit 1, and nothing written beside the file (a secret that does not
 * resolve is a warning of `doctor`, exit 0: it checks the file, `up` needs the value). The cases that are
 * not a file's content (what --config names, stdin, bytes) are below. The table of every case is
 * written to .vitest-results/corpus-table.md for the closing note.
 */

const CASES = join(import.meta.dirname, "cases");
const names = (await readdir(CASES)).filter((f) => f.endsWith(".yaml")).sort();
const ENV = { TS_AUTHKEY: "tskey-corpus", HOMELAB_TOFU_BIN: "/nonexistent/tofu", PATH: "" };

interface Row {
  id: string;
  command: string;
  exit: number;
  message: string;
  written: string[];
}
const rows: Row[] = [];

type Issue = ConfigIssue;

const located = (i: Issue) => `${i.line}:${i.col}: ${i.path}: ${i.message}`;

function firstLine(error: { message: string; issues?: Issue[] }): string {
  const issue = error.issues?.[0];
  return issue ? `${issue.file}:${located(issue)}` : (error.message.split("\n")[0] ?? "");
}

afterAll(async () => {
  // one row per case: the exit code of each command, the first message of `up` (or the first
  // command that ran), and every file any command left behind
  const byCase = new Map<string, Row[]>();
  for (const r of rows) byCase.set(r.id, [...(byCase.get(r.id) ?? []), r]);
  const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
  const lines = [
    "| case | exit (up / plan / doctor / up --simulate) | message | files written |",
    "|---|---|---|---|",
    ...[...byCase.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([id, rs]) => {
        const exits = ["up", "plan", "doctor", "up --simulate"]
          .map((c) => (c === "plan" && !rs.some((r) => r.command === c) ? "plan --simulate" : c))
          .map((c) => rs.find((r) => r.command === c)?.exit ?? "-")
          .join(" / ");
        const message = (rs.find((r) => r.command === "up") ?? rs[0])?.message ?? "";
        const written = [...new Set(rs.flatMap((r) => r.written))];
        return `| ${id} | ${exits} | ${cell(message)} | ${written.length === 0 ? "none" : cell(written.join(", "))} |`;
      }),
  ];
  const dir = join(import.meta.dirname, "../../.vitest-results");
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "corpus-table.md"), `${lines.join("\n")}\n`);
});

describe("the corpus of broken homelab.yaml files", () => {
  it("holds at least the review's 72 bad inputs", ({ expect }) => {
    expect(names.length + SPECIAL_COUNT).toBeGreaterThanOrEqual(72);
  });

  it.for(names)(
    "%s: every command reports the expected problems and writes nothing",
    async (name, { expect }) => {
      const text = await readFile(join(CASES, name), "utf8");
      const code = /^# expect-code: (\S+)$/m.exec(text)?.[1];
      const expected = [...text.matchAll(/^# expect: (.*)$/gm)].map((m) => m[1] as string);
      expect(code).toMatch(/^(CONFIG_INVALID|SECRET_UNRESOLVED)$/);
      expect(expected.length).toBeGreaterThan(0);
      const t = await tempDir();
      try {
        await copyFile(join(CASES, name), join(t.dir, "homelab.yaml"));
        const commands = [["up"], ["plan"], ["doctor"]];
        // the simulated lab puts placeholders in for secrets it cannot resolve, on purpose
        if (code === "CONFIG_INVALID") commands.push(["up", "--simulate"]);
        for (const command of commands) {
          const r = await run([...command, "--json"], { cwd: t.dir, env: ENV });
          const id = name.replace(/\.yaml$/, "");
          const written = (await listFiles(t.dir)).filter((f) => f !== "homelab.yaml");
          expect.soft(written, command.join(" ")).toEqual([]);
          const doc = r.json();
          if (command[0] === "doctor" && code === "SECRET_UNRESOLVED") {
            // doctor checks the file: a secret it cannot resolve here is a warning naming what `up` needs
            expect.soft(r.code, "doctor").toBe(0);
            const got = doc.findings
              .filter((f: { code: string }) => f.code === "SECRET_UNRESOLVED")
              .map(
                (f: { path: string; message: string; severity: string }) =>
                  `${f.severity} ${f.path} ${f.message}`,
              );
            expect.soft(got, "doctor").toEqual(
              expected.map((e) => {
                const m = /^\d+:\d+: ([^:]+): (.*)$/.exec(e.replace("<dir>", t.dir));
                return `warning ${m?.[1]} ${m?.[2]}: \`homelab up\` needs it`;
              }),
            );
            rows.push({ id, command: "doctor", exit: r.code, message: got[0] ?? "", written });
            continue;
          }
          expect.soft(r.code, command.join(" ")).toBe(1);
          if (command[0] === "doctor") {
            // doctor turns the problems into findings, located the same way
            const got = doc.findings.map((f: { path: string; message: string }) => `${f.path} ${f.message}`);
            expect.soft(got, "doctor").toEqual(
              expected.map((e) => {
                const m = /^(\d+:\d+): ([^:]+(?::[^ ]+)?): (.*)$/.exec(e.replace("<dir>", t.dir));
                return `homelab.yaml:${m?.[1]} ${m?.[2]} ${m?.[3]}`;
              }),
            );
            rows.push({
              id,
              command: "doctor",
              exit: r.code,
              message: doc.findings[0]?.message ?? "",
              written,
            });
            continue;
          }
          expect.soft(doc.error.code, command.join(" ")).toBe(code);
          const got = (doc.error.issues as Issue[]).map(located);
          expect.soft(got, command.join(" ")).toEqual(expected.map((e) => e.replace("<dir>", t.dir)));
          expect.soft(doc.error.message).toContain("nothing was changed");
          rows.push({ id, command: command.join(" "), exit: r.code, message: firstLine(doc.error), written });
        }
      } finally {
        await t.cleanup();
      }
    },
  );
});

const BASE = await readFile(join(CASES, "bad-role.yaml"), "utf8").then((t) =>
  t.replace("role: master", "role: controlplane").replace(/^# .*\n/gm, ""),
);

interface Special {
  id: string;
  /** Prepares the temp dir; returns the --config value. */
  setup(dir: string): Promise<string>;
  options?: (dir: string) => RunOptions;
  exit: number;
  code: string;
  /** Expected text in the message (or in the first issue). */
  says: string;
}

const SPECIALS: Special[] = [
  {
    id: "file-missing",
    setup: async () => "homelab.yaml",
    exit: 1,
    code: "CONFIG_NOT_FOUND",
    says: "homelab.yaml does not exist",
  },
  {
    id: "file-dangling-symlink",
    setup: async (dir) => {
      await symlink(join(dir, "gone.yaml"), join(dir, "homelab.yaml"));
      return "homelab.yaml";
    },
    exit: 1,
    code: "CONFIG_NOT_FOUND",
    says: "is a symbolic link to",
  },
  {
    id: "file-is-directory",
    setup: async (dir) => {
      await mkdir(join(dir, "lab"));
      return "lab";
    },
    exit: 1,
    code: "CONFIG_UNREADABLE",
    says: "cannot read lab: it is a directory",
  },
  {
    id: "file-symlink-loop",
    setup: async (dir) => {
      await symlink(join(dir, "b.yaml"), join(dir, "a.yaml"));
      await symlink(join(dir, "a.yaml"), join(dir, "b.yaml"));
      return "a.yaml";
    },
    exit: 1,
    code: "CONFIG_UNREADABLE",
    says: "symlink loop",
  },
  {
    id: "file-fifo-without-writer",
    setup: async (dir) => {
      execFileSync("mkfifo", [join(dir, "homelab.yaml")]);
      return "homelab.yaml";
    },
    exit: 1,
    code: "CONFIG_UNREADABLE",
    says: "FIFO with no writer",
  },
  {
    id: "file-character-device",
    setup: async () => "/dev/zero",
    exit: 1,
    code: "CONFIG_UNREADABLE",
    says: "it is a character device",
  },
  {
    id: "file-too-large",
    setup: async (dir) => {
      await writeFile(join(dir, "homelab.yaml"), `${BASE}${"# padding\n".repeat(500_000)}`);
      return "homelab.yaml";
    },
    exit: 1,
    code: "CONFIG_UNREADABLE",
    says: "larger than 4 MiB",
  },
  {
    id: "file-empty",
    setup: async (dir) => {
      await writeFile(join(dir, "homelab.yaml"), "");
      return "homelab.yaml";
    },
    exit: 1,
    code: "CONFIG_INVALID",
    says: "homelab.yaml:1:1: (document): the file is empty",
  },
  {
    id: "utf8-invalid-in-value",
    setup: async (dir) => {
      const bytes = Buffer.from(
        BASE.replace("  name: homelab\n  accountId", "  name: home\u0001lab\n  accountId"),
      );
      bytes[bytes.indexOf(1)] = 0xff;
      await writeFile(join(dir, "homelab.yaml"), bytes);
      return "homelab.yaml";
    },
    exit: 1,
    code: "CONFIG_INVALID",
    says: "homelab.yaml:18:13: tunnel.name: invalid UTF-8 (byte 0xff)",
  },
  {
    id: "utf8-latin1-comment",
    setup: async (dir) => {
      await writeFile(
        join(dir, "homelab.yaml"),
        Buffer.concat([Buffer.from("# caf"), Buffer.from([0xe9]), Buffer.from(`\n${BASE}`)]),
      );
      return "homelab.yaml";
    },
    exit: 1,
    code: "CONFIG_INVALID",
    says: "homelab.yaml:1:6: (file): invalid UTF-8 (byte 0xe9)",
  },
  {
    id: "stdin-invalid",
    setup: async () => "-",
    options: () => ({
      readStdin: async () => Buffer.from(BASE.replace("role: controlplane", "role: master")),
    }),
    exit: 1,
    code: "CONFIG_INVALID",
    says: '<stdin>:12:11: nodes[0].role: expected one of "controlplane", "worker", got "master"',
  },
  {
    id: "stdin-is-terminal",
    setup: async () => "-",
    options: () => ({ stdinTTY: true, readStdin: async () => Buffer.from(BASE) }),
    exit: 2,
    code: "USAGE",
    says: "--config - reads homelab.yaml from stdin, but stdin is a terminal",
  },
];
const SPECIAL_COUNT = SPECIALS.length;

describe("what --config names", () => {
  it.for(SPECIALS)("$id: fails with its own message and writes nothing", async (c, { expect }) => {
    const t = await tempDir();
    try {
      const config = await c.setup(t.dir);
      const before = await listFiles(t.dir);
      for (const command of [["up"], ["plan"], ["doctor"]]) {
        const r = await run([...command, "--json", "--config", config], {
          cwd: t.dir,
          env: ENV,
          ...(c.options?.(t.dir) ?? {}),
        });
        expect.soft(r.code, command[0]).toBe(c.exit);
        const doc = r.json();
        const said =
          command[0] === "doctor" && doc.findings
            ? `${doc.findings[0].path.split(" ")[0]}: ${doc.findings[0].path.split(" ")[1]}: ${doc.findings[0].message}`
            : firstLine(doc.error);
        if (doc.error) expect.soft(doc.error.code, command[0]).toBe(c.code);
        expect.soft(said, command[0]).toContain(c.says);
        const written = (await listFiles(t.dir)).filter((f) => !before.includes(f));
        expect.soft(written, command[0]).toEqual([]);
        rows.push({ id: c.id, command: command[0] as string, exit: r.code, message: said, written });
      }
    } finally {
      await t.cleanup();
    }
  });

  it("chart-version-not-in-repo: a simulated up or plan fails on the stand-in's index before anything changes", async ({
    expect,
  }) => {
    const t = await tempDir();
    try {
      await writeFile(
        join(t.dir, "homelab.yaml"),
        BASE.replace("chartVersion: 10.4.0", "chartVersion: 99.0.0"),
      );
      for (const command of [
        ["up", "--simulate"],
        ["plan", "--simulate"],
      ]) {
        const r = await run([...command, "--json"], { cwd: t.dir, env: ENV });
        expect(r.code).toBe(1);
        const error = r.json().error;
        expect(error.code).toBe("CONFIG_INVALID");
        expect((error.issues as Issue[]).map(located)).toEqual([
          "29:25: argocd.chartVersion: chart argo-cd 99.0.0 does not exist in https://argoproj.github.io/argo-helm",
        ]);
        const written = (await listFiles(t.dir)).filter((f) => f !== "homelab.yaml");
        expect(written).toEqual([]);
        rows.push({
          id: "chart-version-not-in-repo",
          command: command.join(" "),
          exit: r.code,
          message: firstLine(error),
          written,
        });
      }
    } finally {
      await t.cleanup();
    }
  });

  it("reads a valid homelab.yaml from stdin with --config -", async ({ expect }) => {
    const t = await tempDir();
    try {
      const r = await run(["doctor", "--json", "--config", "-"], {
        cwd: t.dir,
        env: ENV,
        readStdin: async () => Buffer.from(BASE),
      });
      expect(r.json()).toMatchObject({ ok: true, errors: 0 });
      expect(r.code).toBe(0);
    } finally {
      await t.cleanup();
    }
  });

  it("reads a pipe that has a writer, as <(…) gives, to its end", async ({ expect }) => {
    const t = await tempDir();
    const fifo = join(t.dir, "homelab.yaml");
    execFileSync("mkfifo", [fifo]);
    // this process is the writer: O_RDWR never blocks on a FIFO, and the bytes wait in the pipe
    const writer = await open(fifo, constants.O_RDWR);
    try {
      await writer.write(Buffer.from(BASE));
      const running = run(["doctor", "--json", "--config", "homelab.yaml"], { cwd: t.dir, env: ENV });
      // close our end once the CLI holds its own (a second descriptor on the FIFO): it then sees EOF
      const target = await realpath(fifo);
      for (;;) {
        const fds = await readdir("/proc/self/fd");
        const links = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => "")));
        if (links.filter((l) => l === target).length >= 2) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      await writer.close();
      const r = await running;
      expect(r.json()).toMatchObject({ ok: true, errors: 0 });
      expect(r.code).toBe(0);
    } finally {
      await writer.close().catch(() => {});
      await t.cleanup();
    }
  });

  it.for([
    ["EACCES", "permission denied"],
    ["EPERM", "permission denied"],
    ["ELOOP", "symlink loop"],
    ["EISDIR", "it is a directory"],
    ["ENOENT", "does not exist"],
    ["ENOTDIR", "a parent is not a directory"],
  ] as const)("describes %s in its own words", ([errno, says], { expect }) => {
    // EACCES cannot be produced by a file as root (tests run as root here), so the mapping is checked directly
    const error = describeReadError(errno, "homelab.yaml");
    expect(error.rawMessage).toContain(says);
    expect(error.hint).toBeTruthy();
  });
});
