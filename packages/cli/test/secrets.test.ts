import { execFileSync } from "node:child_process";
import { copyFile, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { decrypt, encrypt, generateAgeKey } from "@talos-homelab/sops";
import { decryptSops } from "sops-age";
import { afterEach, beforeEach, describe, it } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "../src/internal/config/load.js";
import { EXAMPLES, run, tempDir } from "./helpers.js";

let t: { dir: string; cleanup(): Promise<void> };
beforeEach(async () => {
  t = await tempDir();
});
afterEach(() => t.cleanup());

const mode = async (path: string) => (await stat(path)).mode & 0o777;

/** A project dir with the example homelab.yaml, an age key in SOPS_AGE_KEY and an encrypted secrets file. */
async function project(secrets: string) {
  const key = await generateAgeKey();
  await copyFile(join(EXAMPLES, "homelab.yaml"), join(t.dir, "homelab.yaml"));
  const config = await readFile(join(t.dir, "homelab.yaml"), "utf8");
  await writeFile(
    join(t.dir, "homelab.yaml"),
    `${config.replace("authKey: env:TS_AUTHKEY", "authKey: sops:tailscale.authKey")}secrets:\n  file: secrets.sops.yaml\n  recipients: [${key.recipient}]\n`,
  );
  const file = join(t.dir, "secrets.sops.yaml");
  await writeFile(file, await encrypt(secrets, { format: "yaml", recipients: [key.recipient] }));
  const tmp = join(t.dir, "tmp");
  await mkdir(tmp);
  const env = { SOPS_AGE_KEY: key.identity, TMPDIR: tmp, XDG_CONFIG_HOME: join(t.dir, "xdg") };
  return { key, file, tmp, env };
}

/** An $EDITOR that runs `body` (JS, with `file` and `fs` in scope) on the file it is given. */
async function editor(body: string): Promise<string> {
  const script = join(t.dir, `editor-${Math.random().toString(16).slice(2)}.mjs`);
  await writeFile(script, `import fs from "node:fs";\nconst file = process.argv[2];\n${body}\n`);
  return `${process.execPath} ${script}`;
}

describe("homelab secrets init", () => {
  it("creates an age identity where sops looks, adds secrets: to homelab.yaml and a .sops.yaml rule", async ({
    expect,
  }) => {
    await copyFile(join(EXAMPLES, "homelab.yaml"), join(t.dir, "homelab.yaml"));
    const env = { XDG_CONFIG_HOME: join(t.dir, "xdg") };
    const r = await run(["secrets", "init", "--json"], { cwd: t.dir, env });
    expect(r.code).toBe(0);
    const result = r.json();
    const keyFile = join(t.dir, "xdg", "sops", "age", "keys.txt");
    expect(result).toMatchObject({ created: true, keyFile, config: "added" });
    expect(await mode(keyFile)).toBe(0o600);
    const keys = await readFile(keyFile, "utf8");
    expect(keys).toContain(`# public key: ${result.recipient}`);
    expect(r.stdout).not.toContain("AGE-SECRET-KEY");
    const config = parse(await readFile(join(t.dir, "homelab.yaml"), "utf8"));
    expect(config.secrets).toEqual({ file: "secrets.sops.yaml", recipients: [result.recipient] });
    expect(await readFile(join(t.dir, ".sops.yaml"), "utf8")).toContain(`age: ${result.recipient}`);
    // the real age tool accepts the keys file we wrote
    expect(execFileSync("age-keygen", ["-y", keyFile], { encoding: "utf8" }).trim()).toBe(result.recipient);

    const again = await run(["secrets", "init", "--json"], { cwd: t.dir, env });
    expect(again.json()).toMatchObject({
      created: false,
      keyFile,
      config: "unchanged",
      recipient: result.recipient,
    });
  });

  it("uses SOPS_AGE_KEY_FILE when set", async ({ expect }) => {
    const keyFile = join(t.dir, "my-keys.txt");
    const r = await run(["secrets", "init", "--json"], { cwd: t.dir, env: { SOPS_AGE_KEY_FILE: keyFile } });
    expect(r.code).toBe(1);
    expect(r.json().error.message).toContain("does not exist");
    const key = await generateAgeKey();
    await writeFile(keyFile, `${key.identity}\n`, { mode: 0o600 });
    const ok = await run(["secrets", "init", "--json"], { cwd: t.dir, env: { SOPS_AGE_KEY_FILE: keyFile } });
    expect(ok.json()).toMatchObject({ created: false, recipient: key.recipient, config: "absent" });
  });
});

describe("homelab secrets encrypt / decrypt", () => {
  it("round-trips a file, and sops-age reads what the CLI wrote", async ({ expect }) => {
    const { env, key } = await project("tailscale:\n  authKey: tskey-1\n");
    await writeFile(join(t.dir, "plain.yaml"), "token: abc\nport: 8080\n");
    const enc = await run(["secrets", "encrypt", "plain.yaml", "-o", "plain.sops.yaml"], { cwd: t.dir, env });
    expect(enc.code).toBe(0);
    const encrypted = await readFile(join(t.dir, "plain.sops.yaml"), "utf8");
    expect(encrypted).not.toContain("abc");
    expect(await decryptSops(encrypted, { secretKey: key.identity, fileType: "yaml" })).toMatchObject({
      token: "abc",
      port: 8080,
    });
    const dec = await run(["secrets", "decrypt", "plain.sops.yaml"], { cwd: t.dir, env });
    expect(dec.stdout).toBe("token: abc\nport: 8080\n");
    const one = await run(["secrets", "decrypt", "--extract", "tailscale.authKey"], { cwd: t.dir, env });
    expect(one.stdout).toBe("tskey-1\n");
    const out = await run(["secrets", "decrypt", "-o", "clear.yaml"], { cwd: t.dir, env });
    expect(out.code).toBe(0);
    expect(await mode(join(t.dir, "clear.yaml"))).toBe(0o600);
  });

  it("fails with NO_MATCHING_KEY and a hint when the identity is not a recipient", async ({ expect }) => {
    const { env } = await project("a: b\n");
    const other = await generateAgeKey();
    const r = await run(["secrets", "decrypt", "--json"], {
      cwd: t.dir,
      env: { ...env, SOPS_AGE_KEY: other.identity },
    });
    expect(r.code).toBe(1);
    expect(r.json().error).toMatchObject({ source: "sops", code: "NO_MATCHING_KEY" });
    expect(r.stdout).not.toContain("AGE-SECRET-KEY");
  });
});

describe("homelab secrets edit", () => {
  it("re-encrypts the edit, keeps unchanged ciphertexts and leaves no clear text behind", async ({
    expect,
  }) => {
    const { env, file, tmp, key } = await project("a: one\nb: two\n");
    const seen = join(t.dir, "seen.json");
    const EDITOR = await editor(
      `fs.writeFileSync(${JSON.stringify(seen)}, JSON.stringify({ file, mode: fs.statSync(file).mode & 0o777, dir: fs.statSync(file.slice(0, file.lastIndexOf("/"))).mode & 0o777 }));\nfs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("two", "TWO"));`,
    );
    const before = parse(await readFile(file, "utf8"));
    const r = await run(["secrets", "edit", "--json"], { cwd: t.dir, env: { ...env, EDITOR } });
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ changed: true });
    const info = JSON.parse(await readFile(seen, "utf8"));
    expect(info).toMatchObject({ mode: 0o600, dir: 0o700 });
    expect(info.file.startsWith(tmp)).toBe(true);
    expect(await readdir(tmp)).toEqual([]);
    const after = parse(await readFile(file, "utf8"));
    expect(after.a).toBe(before.a);
    expect(after.b).not.toBe(before.b);
    expect(
      (await decrypt(await readFile(file, "utf8"), { format: "yaml", identities: [key.identity] })).data,
    ).toEqual({
      a: "one",
      b: "TWO",
    });
  });

  it.for([
    ["the editor fails", 'fs.writeFileSync(file, "a: leaked\\n"); process.exit(3);', 1],
    ["the edit is not valid YAML", 'fs.writeFileSync(file, "a: [unclosed\\n");', 1],
  ] as const)("removes the clear text and keeps the file when %s", async ([, body, code], { expect }) => {
    const { env, file, tmp } = await project("a: one\n");
    const before = await readFile(file, "utf8");
    const r = await run(["secrets", "edit"], { cwd: t.dir, env: { ...env, EDITOR: await editor(body) } });
    expect(r.code).toBe(code);
    expect(await readdir(tmp)).toEqual([]);
    expect(await readFile(file, "utf8")).toBe(before);
  });

  it("removes the clear text and keeps the file when the editor cannot be started", async ({ expect }) => {
    const { env, file, tmp } = await project("a: one\n");
    const before = await readFile(file, "utf8");
    const r = await run(["secrets", "edit", "--json"], {
      cwd: t.dir,
      env: { ...env, EDITOR: join(t.dir, "no-such-editor") },
    });
    expect(r.code).toBe(1);
    expect(r.json().error.message).toContain("cannot start the editor");
    expect(await readdir(tmp)).toEqual([]);
    expect(await readFile(file, "utf8")).toBe(before);
  });

  it("removes the clear text and keeps the file when interrupted (Ctrl-C) while the editor runs", async ({
    expect,
  }) => {
    const { env, file, tmp } = await project("a: one\n");
    const before = await readFile(file, "utf8");
    const started = join(t.dir, "started");
    const EDITOR = await editor(
      `fs.writeFileSync(file, "a: leaked\\n");\nfs.writeFileSync(${JSON.stringify(started)}, "");\nsetInterval(() => {}, 1000);`,
    );
    const controller = new AbortController();
    const watch = setInterval(() => {
      stat(started).then(
        () => controller.abort(new DOMException("interrupted", "AbortError")),
        () => {},
      );
    }, 20);
    const r = await run(["secrets", "edit"], {
      cwd: t.dir,
      env: { ...env, EDITOR },
      signal: controller.signal,
    });
    clearInterval(watch);
    expect(r.code).toBe(130);
    expect(await readdir(tmp)).toEqual([]);
    expect(await readFile(file, "utf8")).toBe(before);
  });
});

describe("homelab secrets rotate", () => {
  it("re-encrypts for a new recipient set: the new key decrypts, the old one no longer does", async ({
    expect,
  }) => {
    const { env, file, key } = await project("a: one\n");
    const next = await generateAgeKey();
    const r = await run(["secrets", "rotate", "--recipients", next.recipient], { cwd: t.dir, env });
    expect(r.code).toBe(0);
    const text = await readFile(file, "utf8");
    expect((await decrypt(text, { format: "yaml", identities: [next.identity] })).data).toEqual({ a: "one" });
    await expect(decrypt(text, { format: "yaml", identities: [key.identity] })).rejects.toMatchObject({
      code: "NO_MATCHING_KEY",
    });
  });
});

describe("sops: secret references", () => {
  it("resolves a reference into the encrypted file", async ({ expect }) => {
    const { env } = await project("tailscale:\n  authKey: tskey-abc\n");
    const loaded = await loadConfig("homelab.yaml", { cwd: t.dir, env, homedir: t.dir });
    expect(loaded.config.tailscale?.authKey.reveal()).toBe("tskey-abc");
    expect(String(loaded.config.tailscale?.authKey)).toBe("[redacted]");
  });

  it("names the reference and the file when the key is missing, without printing values", async ({
    expect,
  }) => {
    const { env } = await project("other: x\n");
    const error = await loadConfig("homelab.yaml", { cwd: t.dir, env, homedir: t.dir }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: "SECRET_UNRESOLVED" });
    expect((error as Error).message).toContain("sops:tailscale.authKey");
    expect((error as Error).message).toContain("has no text value at tailscale.authKey");
  });
});

describe("render --full with secrets:", () => {
  it("writes the complete configs and talosconfig SOPS-encrypted, and the machine secrets into the SOPS file", async ({
    expect,
  }) => {
    const { env, file, key } = await project("tailscale:\n  authKey: tskey-abc\n");
    const r = await run(["render", "--full", "--out", "out", "--json"], { cwd: t.dir, env });
    expect(r.code).toBe(0);
    const written = r.json().written.map((w: { path: string }) => w.path);
    expect(written).toEqual([
      "out/talos/node1.patch.yaml",
      "out/tofu/homelab.auto.tfvars.json",
      "out/talos/node1.sops.yaml",
      "out/talosconfig.sops.yaml",
    ]);
    await expect(stat(join(t.dir, ".homelab"))).rejects.toMatchObject({ code: "ENOENT" });
    const machine = await readFile(join(t.dir, "out/talos/node1.sops.yaml"), "utf8");
    expect(machine).toContain("ENC[AES256_GCM,");
    const bundle = await decrypt(await readFile(file, "utf8"), {
      format: "yaml",
      identities: [key.identity],
    });
    const secrets = (bundle.data.talos as { secrets: string }).secrets;
    expect(secrets).toContain("bootstraptoken");
    const config = await decrypt(machine, { format: "yaml", identities: [key.identity] });
    expect(config.plaintext).toContain("hostname: node1");
    expect(machine).not.toContain(
      /token: ([a-z0-9]{6}\.[a-z0-9]{16})/.exec(secrets)?.[1] ?? "no-token-found",
    );
    const talosconfig = await decrypt(await readFile(join(t.dir, "out/talosconfig.sops.yaml"), "utf8"), {
      format: "yaml",
      identities: [key.identity],
    });
    expect(talosconfig.data).toHaveProperty("contexts.homelab");
    // a second render reuses the stored machine secrets
    await run(["render", "--full", "--out", "out"], { cwd: t.dir, env });
    const again = await decrypt(await readFile(file, "utf8"), { format: "yaml", identities: [key.identity] });
    expect((again.data.talos as { secrets: string }).secrets).toBe(secrets);
  });
});
