import { describe, it } from "vitest";
import { formatDiagnostic, parseTofuLine } from "../src/tofu/index.js";

describe("parseTofuLine", () => {
  it("turns an apply_errored hook into a resource-errored event", ({ expect }) => {
    const line = JSON.stringify({
      "@level": "info",
      "@message": "talos_machine_bootstrap.this: Creation errored after 10m0s",
      type: "apply_errored",
      hook: { resource: { addr: "talos_machine_bootstrap.this" }, action: "create", elapsed_seconds: 600 },
    });
    expect(parseTofuLine(line)).toEqual({
      type: "resource-errored",
      message: "talos_machine_bootstrap.this: Creation errored after 10m0s",
      address: "talos_machine_bootstrap.this",
      action: "create",
      elapsedSeconds: 600,
    });
  });

  it("keeps apply_progress elapsed time and the resource address", ({ expect }) => {
    const line = JSON.stringify({
      "@message": 'talos_machine_configuration_apply.node["node1"]: Still creating... [10s elapsed]',
      type: "apply_progress",
      hook: {
        resource: { addr: 'talos_machine_configuration_apply.node["node1"]' },
        action: "create",
        elapsed_seconds: 10,
      },
    });
    expect(parseTofuLine(line)).toMatchObject({
      type: "resource-progress",
      address: 'talos_machine_configuration_apply.node["node1"]',
      elapsedSeconds: 10,
    });
  });

  it("returns a log event when the line is not JSON or of an unknown type", ({ expect }) => {
    expect(parseTofuLine("Terraform crashed")).toEqual({
      type: "log",
      level: "info",
      message: "Terraform crashed",
    });
    expect(
      parseTofuLine(JSON.stringify({ "@level": "warn", "@message": "x", type: "future_thing" })),
    ).toEqual({
      type: "log",
      level: "warn",
      message: "x",
    });
    expect(parseTofuLine("   ")).toBeUndefined();
  });

  it("keeps only names and flags of outputs when the stream lists output values", ({ expect }) => {
    const line = JSON.stringify({
      "@message": "Outputs: 2",
      type: "outputs",
      outputs: {
        a: { sensitive: false, type: "string", value: "visible-value" },
        b: { sensitive: true, type: "string" },
      },
    });
    const event = parseTofuLine(line);
    expect(event).toEqual({
      type: "outputs",
      message: "Outputs: 2",
      outputs: [
        { name: "a", sensitive: false },
        { name: "b", sensitive: true },
      ],
    });
    expect(JSON.stringify(event)).not.toContain("visible-value");
  });
});

describe("formatDiagnostic", () => {
  it("prefixes file, line and column when the diagnostic has a range", ({ expect }) => {
    expect(
      formatDiagnostic({
        severity: "error",
        summary: "Invalid expression",
        detail: "Expected x.",
        file: "main.tf",
        line: 2,
        column: 11,
      }),
    ).toBe("main.tf:2:11: Invalid expression: Expected x.");
    expect(formatDiagnostic({ severity: "error", summary: "Backend init failed", detail: "" })).toBe(
      "Backend init failed",
    );
  });
});
