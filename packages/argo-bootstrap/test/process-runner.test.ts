import { describe, it } from "vitest";
import { createHelm, createProcessRunner } from "../src/index.js";

describe("createProcessRunner", () => {
  it("passes arguments as an array and stdin as input when the program runs", async ({ expect }) => {
    const run = createProcessRunner();
    const result = await run(
      process.execPath,
      [
        "-e",
        "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{console.log(JSON.stringify({args:process.argv.slice(1),s}));process.exit(3)})",
        "a b",
        "$(echo no)",
      ],
      { input: "hello" },
    );
    expect(result.exitCode).toBe(3);
    expect(JSON.parse(result.stdout)).toEqual({ args: ["a b", "$(echo no)"], s: "hello" });
  });

  it("merges a call's env over the base env when both are given", async ({ expect }) => {
    const run = createProcessRunner({ env: { A: "base", B: "base" } });
    const result = await run(
      process.execPath,
      ["-e", "console.log(JSON.stringify([process.env.A, process.env.B, process.env.HOME ?? null]))"],
      { env: { B: "call" } },
    );
    expect(JSON.parse(result.stdout)).toEqual(["base", "call", null]);
  });

  it("rejects with code ENOENT when the program does not exist", async ({ expect }) => {
    const run = createProcessRunner();
    await expect(run("definitely-not-a-helm-binary-here", ["version"])).rejects.toMatchObject({
      code: "ENOENT",
    });
  });

  it("kills the program and marks the result when timeoutMs passes", async ({ expect }) => {
    const run = createProcessRunner();
    const result = await run(process.execPath, ["-e", "setTimeout(()=>{}, 10000)"], { timeoutMs: 100 });
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).not.toBe(0);
  });

  it("gives createHelm a HELM_NOT_FOUND error when the binary is missing", async ({ expect }) => {
    const helm = createHelm({ run: createProcessRunner(), bin: "definitely-not-a-helm-binary-here" });
    await expect(helm.version()).rejects.toMatchObject({ code: "HELM_NOT_FOUND" });
  });

  it("gives createHelm a HELM_TIMEOUT error when helm is killed for taking too long", async ({ expect }) => {
    const fake = createProcessRunner();
    const helm = createHelm({
      run: (_command, args, options) =>
        args[0] === "version"
          ? Promise.resolve({ exitCode: 0, stdout: "v3.21.4\n", stderr: "" })
          : fake(
              process.execPath,
              ["-e", "process.stderr.write('Error: context deadline exceeded\\n');process.exit(1)"],
              options,
            ),
    });
    await expect(
      helm.upgradeInstall({
        release: "argocd",
        namespace: "argocd",
        source: { type: "oci", ref: "oci://r/argo-cd" },
        version: "10.4.0",
      }),
    ).rejects.toMatchObject({
      code: "HELM_TIMEOUT",
      details: { outputTail: "Error: context deadline exceeded" },
    });
  });
});
