import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "vitest";
import {
  CONTROL_PLANE_ONLY,
  rolesFor,
  SEPARATE_MAINTENANCE,
  TALOS_LINES,
  talosLine,
} from "../src/testing/talos-lines.js";

const here = dirname(fileURLToPath(import.meta.url));
const sharedDir = process.env.HOMELAB_SHARED_DIR ?? resolve(here, "../../..", "..", "shared");
const facts = readFileSync(join(sharedDir, "facts", "talos.md"), "utf8");

/** The facts line starting with `prefix` (first match). */
function factLine(prefix: string): string {
  const line = facts.split("\n").find((l) => l.includes(prefix));
  if (line === undefined) throw new Error(`facts/talos.md has no line with "${prefix}"`);
  return line;
}

/**
 * Where upstream says more than facts/talos.md, with the upstream file (reported in the issue's
 * closing note as corrections to the facts).
 */
const EXTRA_ROLES: Record<string, string[]> = {
  // talos v1.13.9 internal/app/machined/pkg/system/services/machined.go rules
  "/machine.MachineService/EtcdMemberList": ["os:etcd:backup"],
  "/machine.MachineService/EtcdStatus": ["os:etcd:backup"],
};

function pathOf(name: string): string[] {
  if (name === "COSI reads") return ["Get", "List", "Watch"].map((m) => `/cosi.resource.State/${m}`);
  if (name === "Disks") return ["/storage.StorageService/Disks"];
  return [`/machine.MachineService/${name}`];
}

describe("Talos behaviour tables against shared/facts/talos.md", () => {
  it("holds the role examples of the facts", ({ expect }) => {
    const examples = factLine("Roles: `os:admin`").split("Examples: ")[1] ?? "";
    const groups = examples.replace(/\.$/, "").split("; ");
    expect(groups.length).toBeGreaterThan(3);
    for (const group of groups) {
      const [names, roles] = group.split(" = ") as [string, string];
      let previous = "";
      for (const raw of names.split("/")) {
        // "ServiceStart/Stop/Restart" abbreviates ServiceStop and ServiceRestart.
        const name = /^(Stop|Restart)$/.test(raw) && previous.startsWith("Service") ? `Service${raw}` : raw;
        previous = name;
        for (const path of pathOf(name)) {
          const expected = [...roles.split("|").map((r) => `os:${r}`), ...(EXTRA_ROLES[path] ?? [])];
          expect([...rolesFor(path)].sort(), path).toEqual(expected.sort());
        }
      }
    }
  });

  it("holds the ≤1.12 maintenance server's method list", ({ expect }) => {
    const line = factLine("Talos ≤1.12 used a separate maintenance gRPC server");
    const listed = /MachineService\{([^}]+)\}/.exec(line)?.[1]?.split(", ") ?? [];
    const table = [
      ...SEPARATE_MAINTENANCE.machineMethods,
      ...SEPARATE_MAINTENANCE.adminOnlyMachineMethods,
      ...SEPARATE_MAINTENANCE.refusedMachineMethods,
    ];
    expect([...table].sort()).toEqual([...listed].sort());
    expect(line).toContain("storage Disks and COSI State");
    expect(TALOS_LINES["1.11"].maintenance).toBe("separate-server");
    expect(TALOS_LINES["1.12"].maintenance).toBe("separate-server");
    expect(
      factLine("Maintenance mode (no/incomplete config").includes("Talos ≥1.13 runs the normal apid"),
    ).toBe(true);
    expect(TALOS_LINES["1.13"].maintenance).toBe("apid-reader");
  });

  it("holds the apply mode rules per line", ({ expect }) => {
    const rule = factLine("- Behaviour: 1.13.9 AUTO");
    expect(rule).toContain("1.13.9 AUTO → NO_REBOOT if change can apply live, else REBOOT; REBOOT allowed");
    expect(TALOS_LINES["1.13"]).toMatchObject({ auto: "live-or-reboot", rebootApplyMode: true });
    expect(rule).toContain("≥1.14/main: AUTO always becomes NO_REBOOT");
    for (const line of ["1.14", "1.15"] as const) {
      expect(TALOS_LINES[line]).toMatchObject({ auto: "no-reboot", rebootApplyMode: false });
    }
    expect(facts).toContain("REBOOT → Unimplemented (except in maintenance where it maps to NO_REBOOT)");
  });

  it("holds the reboot modes and the services added in 1.13", ({ expect }) => {
    expect(factLine("`RebootRequest`: mode=1:Mode")).toContain("DEFAULT=0, POWERCYCLE=1, FORCE=2");
    // Correction: FORCE=2 is absent from api/machine/machine.proto at talos v1.11.6.
    expect(TALOS_LINES["1.11"].rebootModes).toEqual(["DEFAULT", "POWERCYCLE"]);
    for (const service of ["machine.ImageService", "machine.LifecycleService"]) {
      expect(factLine(`| \`${service}\` (≥1.13)`)).toBeTruthy();
      expect(TALOS_LINES["1.12"].extraServices).not.toContain(service);
      expect(TALOS_LINES["1.13"].extraServices).toContain(service);
    }
  });

  it("holds the control-plane-only calls", ({ expect }) => {
    expect(factLine("Bootstrap exactly once")).toContain(
      "Kubeconfig/GenerateClientConfiguration only on control-plane nodes",
    );
    for (const method of ["Bootstrap", "Kubeconfig", "GenerateClientConfiguration", "EtcdMemberList"]) {
      expect(CONTROL_PLANE_ONLY[method]).toBeDefined();
    }
  });

  it("maps version tags to lines", ({ expect }) => {
    expect(talosLine("v1.11.6").line).toBe("1.11");
    expect(talosLine("v1.12.11").line).toBe("1.12");
    expect(talosLine("1.13.9").line).toBe("1.13");
    expect(talosLine("v1.14.0-rc.1").line).toBe("1.14");
    expect(talosLine("v1.16.0").line).toBe("1.15");
  });
});
