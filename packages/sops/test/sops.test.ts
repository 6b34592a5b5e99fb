import { describe, it } from "vitest";
import { parse } from "yaml";
import {
  ageRecipientOf,
  decrypt,
  encrypt,
  generateAgeKey,
  isSopsEncrypted,
  parseAgeIdentities,
  readSopsMetadata,
  rotate,
  SopsError,
  sopsFormatFromPath,
  updateEncrypted,
} from "../src/index.js";

const plain = `# cluster secrets
cluster:
  id: abc123
  secret: s3cr3t # rotated yearly
  replicas: 3
  ratio: 1.5
  enabled: true
  nothing: null
  empty: ""
tokens:
  - one
  - two
note_unencrypted: visible
`;

async function keys() {
  return generateAgeKey();
}

function replaceLine(text: string, pattern: RegExp, replace: (line: string) => string): string {
  let done = false;
  return text
    .split("\n")
    .map((line) => {
      if (done || !pattern.test(line)) return line;
      done = true;
      return replace(line);
    })
    .join("\n");
}

describe("encrypt", () => {
  it("encrypts every value one by one and leaves keys, nulls, empties and _unencrypted values readable", async ({
    expect,
  }) => {
    const { recipient } = await keys();
    const out = await encrypt(plain, { format: "yaml", recipients: [recipient] });
    expect(out).not.toContain("s3cr3t");
    expect(out).not.toContain("abc123");
    expect(out).not.toContain("rotated yearly");
    expect(out).toContain("note_unencrypted: visible");
    const doc = parse(out) as Record<string, Record<string, unknown>>;
    expect(doc.cluster?.secret).toMatch(/^ENC\[AES256_GCM,data:.+,iv:.+,tag:.+,type:str\]$/);
    expect(doc.cluster?.replicas).toMatch(/type:int\]$/);
    expect(doc.cluster?.ratio).toMatch(/type:float\]$/);
    expect(doc.cluster?.enabled).toMatch(/type:bool\]$/);
    expect(doc.cluster?.nothing).toBeNull();
    expect(doc.cluster?.empty).toBe("");
    expect(doc.sops).toMatchObject({
      age: [{ recipient, enc: expect.stringMatching(/^-----BEGIN AGE ENCRYPTED FILE-----\n/) }],
      lastmodified: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      mac: expect.stringMatching(/^ENC\[AES256_GCM,.*type:str\]$/),
      unencrypted_suffix: "_unencrypted",
      version: "3.9.0",
    });
  });

  it("uses a fresh 32-byte nonce per value, so equal values encrypt differently", async ({ expect }) => {
    const { recipient } = await keys();
    const out = await encrypt("a: same\nb: same\n", { format: "yaml", recipients: [recipient] });
    const doc = parse(out) as { a: string; b: string };
    expect(doc.a).not.toBe(doc.b);
    expect(Buffer.from(/iv:([^,]+)/.exec(doc.a)?.[1] ?? "", "base64")).toHaveLength(32);
  });

  it("encrypts only keys matching encrypted_regex when it is set", async ({ expect }) => {
    const { recipient, identity } = await keys();
    const out = await encrypt("data:\n  password: p\nkind: Secret\n", {
      format: "yaml",
      recipients: [recipient],
      encryptedRegex: "^(data|stringData)$",
    });
    expect(out).toContain("kind: Secret");
    expect(out).not.toMatch(/password: p$/m);
    expect(out).toContain("encrypted_regex: ^(data|stringData)$");
    expect((await decrypt(out, { format: "yaml", identities: [identity] })).data).toEqual({
      data: { password: "p" },
      kind: "Secret",
    });
  });

  it("refuses two encryption rules at once and text that is already encrypted", async ({ expect }) => {
    const { recipient } = await keys();
    await expect(
      encrypt("a: 1\n", {
        format: "yaml",
        recipients: [recipient],
        encryptedRegex: "a",
        unencryptedSuffix: "_x",
      }),
    ).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
    const once = await encrypt("a: 1\n", { format: "yaml", recipients: [recipient] });
    await expect(encrypt(once, { format: "yaml", recipients: [recipient] })).rejects.toMatchObject({
      code: "ALREADY_ENCRYPTED",
    });
  });

  it("names the file and key path for input it cannot encrypt", async ({ expect }) => {
    const { recipient } = await keys();
    await expect(
      encrypt("a: &x 1\nb: *x\n", { format: "yaml", recipients: [recipient], source: "s.yaml" }),
    ).rejects.toThrow(/b: YAML aliases are not supported/);
    await expect(
      encrypt("- 1\n", { format: "yaml", recipients: [recipient], source: "s.yaml" }),
    ).rejects.toThrow(/s\.yaml: the top level must be a mapping/);
    await expect(encrypt("{", { format: "json", recipients: [recipient], source: "s.json" })).rejects.toThrow(
      /s\.json: not valid JSON/,
    );
  });
});

describe("decrypt", () => {
  it.for([
    ["yaml", plain],
    [
      "json",
      '{\n\t"a": "x",\n\t"n": 12345678901234567890,\n\t"f": 2.5,\n\t"l": [\n\t\t1,\n\t\ttrue,\n\t\tnull\n\t],\n\t"e": ""\n}\n',
    ],
    ["dotenv", "# comment\nTOKEN=abc\nMULTI=line1\\nline2\n"],
  ] as const)("round-trips %s with types intact", async ([format, text], { expect }) => {
    const { recipient, identity } = await keys();
    const out = await encrypt(text, { format, recipients: [recipient] });
    const result = await decrypt(out, { format, identities: [identity] });
    expect(result.plaintext).toBe(format === "yaml" ? plain : text);
    expect(result.metadata.recipients).toEqual([recipient]);
  });

  it("returns plain JS data, with integers past 2^53 kept as bigint", async ({ expect }) => {
    const { recipient, identity } = await keys();
    const out = await encrypt('{"big": 12345678901234567890, "small": 7, "f": 2.0}', {
      format: "json",
      recipients: [recipient],
    });
    const { data } = await decrypt(out, { format: "json", identities: [identity] });
    expect(data).toEqual({ big: 12345678901234567890n, small: 7, f: 2 });
  });

  it("decrypts with any one of several recipients' identities", async ({ expect }) => {
    const a = await keys();
    const b = await keys();
    const out = await encrypt("k: v\n", { format: "yaml", recipients: [a.recipient, b.recipient] });
    expect((await decrypt(out, { format: "yaml", identities: [b.identity] })).data).toEqual({ k: "v" });
  });

  it("fails with NO_MATCHING_KEY naming the recipients when no identity fits", async ({ expect }) => {
    const a = await keys();
    const other = await keys();
    const out = await encrypt("k: v\n", { format: "yaml", recipients: [a.recipient] });
    const error = await decrypt(out, {
      format: "yaml",
      identities: [other.identity],
      source: "s.yaml",
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SopsError);
    expect((error as SopsError).code).toBe("NO_MATCHING_KEY");
    expect((error as SopsError).message).toContain(a.recipient);
    expect((error as SopsError).message).not.toContain("AGE-SECRET-KEY");
  });

  it("detects a tampered value (flipped ciphertext byte)", async ({ expect }) => {
    const { recipient, identity } = await keys();
    const out = await encrypt(plain, { format: "yaml", recipients: [recipient] });
    const tampered = replaceLine(out, /^\s+secret: ENC/, (line) =>
      line.replace(/data:(.)/, (_, c: string) => `data:${c === "A" ? "B" : "A"}`),
    );
    await expect(decrypt(tampered, { format: "yaml", identities: [identity] })).rejects.toMatchObject({
      code: "DECRYPTION_FAILED",
      message: expect.stringContaining("cluster.secret"),
    });
  });

  it("detects a value moved to another key (the key path is authenticated)", async ({ expect }) => {
    const { recipient, identity } = await keys();
    const out = await encrypt("a: one\nb: two\n", { format: "yaml", recipients: [recipient] });
    const doc = parse(out) as { a: string; b: string };
    const swapped = out.replace(doc.a, "@A@").replace(doc.b, doc.a).replace("@A@", doc.b);
    await expect(decrypt(swapped, { format: "yaml", identities: [identity] })).rejects.toMatchObject({
      code: "DECRYPTION_FAILED",
    });
  });

  it("detects a changed clear value, a removed value and a tampered MAC through the MAC", async ({
    expect,
  }) => {
    const { recipient, identity } = await keys();
    const out = await encrypt(plain, { format: "yaml", recipients: [recipient] });
    const clear = out.replace("note_unencrypted: visible", "note_unencrypted: changed");
    await expect(decrypt(clear, { format: "yaml", identities: [identity] })).rejects.toMatchObject({
      code: "MAC_MISMATCH",
    });
    const removed = replaceLine(out, /^\s+replicas: ENC/, () => "    replicas: null");
    await expect(decrypt(removed, { format: "yaml", identities: [identity] })).rejects.toMatchObject({
      code: "MAC_MISMATCH",
    });
    const mac = replaceLine(out, /^\s+mac: ENC/, (line) =>
      line.replace(/data:(.)/, (_, c: string) => `data:${c === "A" ? "B" : "A"}`),
    );
    await expect(decrypt(mac, { format: "yaml", identities: [identity] })).rejects.toMatchObject({
      code: "MAC_MISMATCH",
    });
    const stamp = out.replace(/lastmodified: "[^"]+"/, 'lastmodified: "2001-01-01T00:00:00Z"');
    await expect(decrypt(stamp, { format: "yaml", identities: [identity] })).rejects.toMatchObject({
      code: "MAC_MISMATCH",
    });
  });

  it("lets clear values change when the MAC covers only encrypted values", async ({ expect }) => {
    const { recipient, identity } = await keys();
    const out = await encrypt(plain, { format: "yaml", recipients: [recipient], macOnlyEncrypted: true });
    expect(out).toContain("mac_only_encrypted: true");
    const clear = out.replace("note_unencrypted: visible", "note_unencrypted: changed");
    expect((await decrypt(clear, { format: "yaml", identities: [identity] })).data.note_unencrypted).toBe(
      "changed",
    );
  });

  it("refuses a file without sops metadata", async ({ expect }) => {
    await expect(decrypt("a: 1\n", { format: "yaml", identities: [] })).rejects.toMatchObject({
      code: "METADATA_NOT_FOUND",
    });
  });
});

describe("multi-document YAML", () => {
  it("encrypts every document, writes the metadata into each, and round-trips", async ({ expect }) => {
    const { recipient, identity } = await keys();
    const text =
      "version: v1alpha1\nmachine:\n  token: abc\n---\napiVersion: v1alpha1\nkind: HostnameConfig\nhostname: node1\n";
    const out = await encrypt(text, { format: "yaml", recipients: [recipient] });
    expect(out).not.toContain("abc");
    expect(out).not.toContain("node1");
    const docs = out.split(/^---$/m);
    expect(docs).toHaveLength(2);
    for (const doc of docs) expect(parse(doc)).toHaveProperty("sops.mac");
    const result = await decrypt(out, { format: "yaml", identities: [identity] });
    expect(result.plaintext).toBe(text);
    expect(result.data).toEqual({ version: "v1alpha1", machine: { token: "abc" } });
  });

  it("covers every document with the MAC", async ({ expect }) => {
    const { recipient, identity } = await keys();
    const out = await encrypt("a: 1\n---\nb_unencrypted: x\n", { format: "yaml", recipients: [recipient] });
    const tampered = out.replace("b_unencrypted: x", "b_unencrypted: y");
    await expect(decrypt(tampered, { format: "yaml", identities: [identity] })).rejects.toMatchObject({
      code: "MAC_MISMATCH",
    });
  });
});

describe("updateEncrypted", () => {
  it("keeps the ciphertext of unchanged values and the recipients, so the diff shows only the edit", async ({
    expect,
  }) => {
    const { recipient, identity } = await keys();
    const out = await encrypt(plain, { format: "yaml", recipients: [recipient] });
    const edited = plain.replace("replicas: 3", "replicas: 4");
    const next = await updateEncrypted(out, edited, { format: "yaml", identities: [identity] });
    const before = parse(out) as { cluster: Record<string, string>; sops: { age: unknown } };
    const after = parse(next) as { cluster: Record<string, string>; sops: { age: unknown } };
    expect(after.cluster.secret).toBe(before.cluster.secret);
    expect(after.cluster.id).toBe(before.cluster.id);
    expect(after.cluster.replicas).not.toBe(before.cluster.replicas);
    expect(after.sops.age).toEqual(before.sops.age);
    expect((await decrypt(next, { format: "yaml", identities: [identity] })).data).toMatchObject({
      cluster: { replicas: 4 },
    });
  });
});

describe("rotate", () => {
  it("re-encrypts for a new recipient set under a new data key", async ({ expect }) => {
    const a = await keys();
    const b = await keys();
    const out = await encrypt(plain, { format: "yaml", recipients: [a.recipient] });
    const rotated = await rotate(out, {
      format: "yaml",
      identities: [a.identity],
      recipients: [b.recipient],
    });
    expect(readSopsMetadata(rotated, { format: "yaml" }).recipients).toEqual([b.recipient]);
    expect((await decrypt(rotated, { format: "yaml", identities: [b.identity] })).plaintext).toBe(plain);
    await expect(decrypt(rotated, { format: "yaml", identities: [a.identity] })).rejects.toMatchObject({
      code: "NO_MATCHING_KEY",
    });
    const before = parse(out) as { cluster: { secret: string } };
    const after = parse(rotated) as { cluster: { secret: string } };
    expect(after.cluster.secret).not.toBe(before.cluster.secret);
  });
});

describe("age keys", () => {
  it("parses a keys.txt with comments and derives recipients", async ({ expect }) => {
    const { identity, recipient } = await keys();
    const text = `# created: 2026-01-01\n# public key: ${recipient}\n${identity}\n\n`;
    expect(parseAgeIdentities(text)).toEqual([identity]);
    expect(await ageRecipientOf(identity)).toBe(recipient);
  });

  it("rejects a malformed line naming its number, not its content", ({ expect }) => {
    expect(() => parseAgeIdentities("# c\nnot-a-key\n")).toThrow(/line 2: expected an age identity/);
  });

  it("accepts several identities per line when allowed (SOPS_AGE_KEY)", async ({ expect }) => {
    const a = await keys();
    const b = await keys();
    expect(parseAgeIdentities(`${a.identity} ${b.identity}`, { allowManyPerLine: true })).toEqual([
      a.identity,
      b.identity,
    ]);
  });
});

describe("helpers", () => {
  it.for([
    ["secrets.sops.yaml", "yaml"],
    ["x.json", "json"],
    ["prod.env", "dotenv"],
    ["dir/.env", "dotenv"],
  ] as const)("infers %s as %s", ([path, format], { expect }) => {
    expect(sopsFormatFromPath(path)).toBe(format);
  });

  it("tells encrypted from clear text", async ({ expect }) => {
    const { recipient } = await keys();
    expect(
      isSopsEncrypted(await encrypt("a: b\n", { format: "yaml", recipients: [recipient] }), "yaml"),
    ).toBe(true);
    expect(isSopsEncrypted("a: b\n", "yaml")).toBe(false);
  });
});
