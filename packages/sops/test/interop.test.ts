import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { decryptSops } from "sops-age";
import { afterEach, beforeEach, describe, it } from "vitest";
import { Document, parse } from "yaml";
import { decrypt, encrypt, generateAgeKey } from "../src/index.js";
import { fixture, tempDir, upstreamDataKey } from "./helpers.js";

// Interop with independent implementations:
// - sops-age (npm; its own AES-GCM and age code) decrypts what we write;
// - the real `age` binary (Debian package `age`) unwraps our data keys and wraps keys we then read;
// - files written by the real `sops` tool (its own test data) decrypt here with the MAC checked.

let dir = "";
let cleanup = () => {};
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
});
afterEach(() => cleanup());

const yamlText = `cluster:
  id: abc123
  secret: s3cr3t
  replicas: 3
  ratio: 1.5
  enabled: false
tokens:
  - one
  - two
note_unencrypted: visible
`;

describe("sops-age (independent npm decoder)", () => {
  it.for([
    [
      "yaml",
      yamlText,
      { cluster: { id: "abc123", secret: "s3cr3t", replicas: 3, ratio: 1.5, enabled: false } },
    ],
    ["json", '{"db": {"user": "u", "port": 5432, "on": true}, "list": ["a", 2.25]}', { db: { port: 5432 } }],
    ["dotenv", "TOKEN=abc\nOTHER=x=y\n", { TOKEN: "abc", OTHER: "x=y" }],
  ] as const)("decrypts the %s we write to the same data", async ([format, text, expected], { expect }) => {
    const { identity, recipient } = await generateAgeKey();
    const out = await encrypt(text, { format, recipients: [recipient] });
    const theirs = (await decryptSops(out, {
      secretKey: identity,
      fileType: format === "dotenv" ? "env" : format,
    })) as Record<string, unknown> | undefined;
    expect(theirs).toMatchObject(expected);
    const ours = await decrypt(out, { format, identities: [identity] });
    const { sops: _sops, ...theirsData } = theirs ?? {};
    expect(theirsData).toEqual(ours.data);
  });
});

describe("the age binary", () => {
  it("unwraps the data key we wrap, and that key decrypts the file", async ({ expect }) => {
    const { identity, recipient } = await generateAgeKey();
    const out = await encrypt(yamlText, { format: "yaml", recipients: [recipient] });
    const enc = (parse(out) as { sops: { age: { enc: string }[] } }).sops.age[0]?.enc ?? "";
    writeFileSync(join(dir, "keys.txt"), `${identity}\n`, { mode: 0o600 });
    const dataKey = execFileSync("age", ["--decrypt", "--identity", join(dir, "keys.txt")], { input: enc });
    expect(dataKey).toHaveLength(32);
    const result = await decrypt(out, { format: "yaml", dataKey: new Uint8Array(dataKey) });
    expect(result.data).toMatchObject({ cluster: { secret: "s3cr3t" } });
  });

  it("wraps a data key (age -a -r) that we unwrap with an identity from age-keygen", async ({ expect }) => {
    const ours = await generateAgeKey();
    const out = await encrypt(yamlText, { format: "yaml", recipients: [ours.recipient] });
    const enc = (parse(out) as { sops: { age: { enc: string }[] } }).sops.age[0]?.enc ?? "";
    writeFileSync(join(dir, "ours.txt"), `${ours.identity}\n`, { mode: 0o600 });
    const dataKey = execFileSync("age", ["--decrypt", "--identity", join(dir, "ours.txt")], { input: enc });
    execFileSync("age-keygen", ["-o", join(dir, "theirs.txt")], { stdio: "ignore" });
    const keyFile = execFileSync("cat", [join(dir, "theirs.txt")], { encoding: "utf8" });
    const theirIdentity = keyFile.split("\n").find((line) => line.startsWith("AGE-SECRET-KEY-1")) ?? "";
    const theirRecipient = execFileSync("age-keygen", ["-y", join(dir, "theirs.txt")], {
      encoding: "utf8",
    }).trim();
    const wrapped = execFileSync("age", ["--encrypt", "--armor", "--recipient", theirRecipient], {
      input: dataKey,
      encoding: "utf8",
    });
    const doc = new Document(parse(out));
    doc.setIn(["sops", "age"], [{ recipient: theirRecipient, enc: wrapped }]);
    const rewrapped = doc.toString();
    const result = await decrypt(rewrapped, { format: "yaml", identities: [theirIdentity] });
    expect(result.data).toMatchObject({ cluster: { secret: "s3cr3t", replicas: 3 } });
  });
});

describe("files written by the real sops tool", () => {
  it("decrypts example.yaml (comments, float, bools, lists, _unencrypted) with the MAC checked", async ({
    expect,
  }) => {
    const dataKey = upstreamDataKey("example.yaml", join(dir, "gnupg"));
    const result = await decrypt(fixture("sops-upstream/example.yaml"), { format: "yaml", dataKey });
    expect(result.data).toMatchObject({
      myapp1: "t00m4nys3cr3tzupdated",
      app2: { db: { user: "eve", password: "c4r1b0u" } },
      an_array: ["secretuser1", "secretuser2", expect.any(String), "some other value"],
      somebooleans: [true, false],
      this: { is: { a: { nested: { value: "with something secret in it" } } } },
      somelist_unencrypted: ["all elements of this list", "remain in clear text", expect.any(String)],
    });
    expect((result.data.app2 as { key: string }).key).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(typeof result.data.number).toBe("number");
    expect(result.plaintext).not.toContain("ENC[");
    expect(result.metadata.otherKeyTypes).toEqual(["pgp"]);
  });

  it.for([
    ["example.json", "json"],
    ["format.enc.yaml", "yaml"],
    ["format.enc.json", "json"],
    ["format.enc.env", "dotenv"],
    ["comments.enc.yaml", "yaml"],
  ] as const)("decrypts %s with the MAC checked", async ([name, format], { expect }) => {
    const dataKey = upstreamDataKey(name, join(dir, "gnupg"));
    const result = await decrypt(fixture(`sops-upstream/${name}`), { format, dataKey });
    expect(result.plaintext).not.toContain("ENC[");
    // format.enc.env holds the line `foo = bar`: sops keeps the spaces in key and value, and so does the MAC.
    if (name.startsWith("format"))
      expect(result.data).toEqual(format === "dotenv" ? { "foo ": " bar" } : { foo: "bar" });
    if (name === "comments.enc.yaml") {
      expect(result.data).toEqual({ lorem: "ipsum", dolor: "sit" });
      expect(result.plaintext).toContain("# first comment in file");
    }
    if (name === "example.json") {
      expect(result.data).toMatchObject({ firstName: "John", age: 25.4, anEmptyValue: "" });
    }
  });

  it("detects tampering in a sops-written file through its MAC", async ({ expect }) => {
    const dataKey = upstreamDataKey("example.yaml", join(dir, "gnupg"));
    const text = fixture("sops-upstream/example.yaml").replace(
      "all elements of this list",
      "all elements of this lisT",
    );
    await expect(decrypt(text, { format: "yaml", dataKey })).rejects.toMatchObject({ code: "MAC_MISMATCH" });
  });
});
