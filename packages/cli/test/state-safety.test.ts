import { spawn } from "node:child_process";
import { readFile, stat, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, it } from "vitest";
import { ensurePrivateDir, writeFileAtomic } from "../src/internal/fs/atomic.js";
import { acquireStateLock } from "../src/internal/pipeline/lock.js";
import { cloudflareBaseURL, realTarget } from "../src/internal/pipeline/target.js";
import { tempDir } from "./helpers.js";

async function withUmask<T>(mask: number, fn: () => Promise<T>): Promise<T> {
  const old = process.umask(mask);
  try {
    return await fn();
  } finally {
    process.umask(old);
  }
}

describe("ensurePrivateDir", () => {
  it("creates every missing level 0700 even under umask 000", async ({ expect }) => {
    const tmp = await tempDir();
    try {
      const dir = join(tmp.dir, "a", "b", "c");
      await withUmask(0o000, () => ensurePrivateDir(dir));
      for (const level of [join(tmp.dir, "a"), join(tmp.dir, "a", "b"), dir])
        expect((await stat(level)).mode & 0o777).toBe(0o700);
    } finally {
      await tmp.cleanup();
    }
  });

  it("leaves an existing directory's mode alone", async ({ expect }) => {
    const tmp = await tempDir();
    try {
      await withUmask(0o022, () => writeFileAtomic(join(tmp.dir, "state", "secrets.yaml"), "x", 0o600));
      expect((await stat(join(tmp.dir, "state"))).mode & 0o777).toBe(0o700);
      expect((await stat(join(tmp.dir, "state", "secrets.yaml"))).mode & 0o777).toBe(0o600);
      expect((await stat(tmp.dir)).mode & 0o777).toBe(0o700); // mkdtemp's own mode, untouched
    } finally {
      await tmp.cleanup();
    }
  });
});

describe("acquireStateLock", () => {
  const clock = { now: () => Date.UTC(2030, 0, 2, 3, 4, 5) };

  it("records when it was taken from the clock it is given", async ({ expect }) => {
    const tmp = await tempDir();
    try {
      const lock = await acquireStateLock(tmp.dir, "up", clock);
      const holder = JSON.parse(await readFile(join(tmp.dir, "homelab.lock"), "utf8"));
      expect(holder).toMatchObject({ command: "up", startedAt: "2030-01-02T03:04:05.000Z" });
      await lock.release();
    } finally {
      await tmp.cleanup();
    }
  });

  it("stops a second holder with the first one's pid and host, and frees on release", async ({ expect }) => {
    const tmp = await tempDir();
    try {
      const first = await acquireStateLock(tmp.dir, "up", clock);
      const error = await acquireStateLock(tmp.dir, "up", clock).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "LOCKED" });
      expect((error as Error).message).toContain(`pid ${process.pid} on ${hostname()}`);
      await first.release();
      const again = await acquireStateLock(tmp.dir, "up", clock);
      await again.release();
    } finally {
      await tmp.cleanup();
    }
  });

  it("takes over a lock whose process is gone", async ({ expect }) => {
    const tmp = await tempDir();
    try {
      const child = spawn(process.execPath, ["-e", "0"]);
      const pid = child.pid as number;
      await new Promise((resolve) => child.once("exit", resolve));
      await writeFile(
        join(tmp.dir, "homelab.lock"),
        JSON.stringify({ pid, host: hostname(), command: "up", startedAt: "2026-01-01T00:00:00Z" }),
      );
      const lock = await acquireStateLock(tmp.dir, "up", clock);
      expect(JSON.parse(await readFile(join(tmp.dir, "homelab.lock"), "utf8")).pid).toBe(process.pid);
      await lock.release();
    } finally {
      await tmp.cleanup();
    }
  });

  it("does not take over a lock held on another host", async ({ expect }) => {
    const tmp = await tempDir();
    try {
      await writeFile(
        join(tmp.dir, "homelab.lock"),
        JSON.stringify({ pid: 1, host: "elsewhere", command: "up", startedAt: "2026-01-01T00:00:00Z" }),
      );
      const error = await acquireStateLock(tmp.dir, "up", clock).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "LOCKED" });
      expect((error as { hint?: string }).hint).toContain("homelab.lock");
    } finally {
      await tmp.cleanup();
    }
  });
});

describe("cloudflareBaseURL", () => {
  it("is Cloudflare's own API when unset", ({ expect }) => {
    expect(cloudflareBaseURL({})).toBeUndefined();
  });

  it.for([
    ["http://api.example.net/client/v4", "1", "not https"],
    ["https://api.example.net/client/v4", undefined, "would be sent to https://api.example.net"],
    ["http://127.0.0.1:9/client/v4", undefined, "HOMELAB_ALLOW_ENDPOINT_OVERRIDE"],
    ["https://user:pw@api.example.net/", "1", "credentials"],
    ["not a url", "1", "not a URL"],
  ])("refuses %s (allowed: %s)", ([url, allow, message], { expect }) => {
    const env = { CLOUDFLARE_BASE_URL: url, HOMELAB_ALLOW_ENDPOINT_OVERRIDE: allow };
    let caught: unknown;
    try {
      cloudflareBaseURL(env);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: "UNSAFE_ENDPOINT" });
    const text = `${(caught as Error).message} ${(caught as { hint?: string }).hint ?? ""}`;
    expect(text).toContain(message);
    expect(text).not.toContain("pw@");
  });

  it.for([
    "https://api.example.net/client/v4",
    "http://127.0.0.1:8787/client/v4",
    "http://localhost:8787/client/v4",
  ])("accepts %s when explicitly allowed", (url, { expect }) => {
    const env = { CLOUDFLARE_BASE_URL: url, HOMELAB_ALLOW_ENDPOINT_OVERRIDE: "1" };
    expect(cloudflareBaseURL(env)).toBe(url);
    expect(
      realTarget(env, async () => ({ exitCode: 0, stdout: "", stderr: "" }), undefined).cloudflare.baseURL,
    ).toBe(url);
  });
});
