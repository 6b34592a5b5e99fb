import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { HomelabError } from "../../errors.js";
import type { NodeResult, TalosClient } from "../adapters/talos-client.js";
import type { Invocation, RunFn } from "../cli/spec.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { confirm, stringOption } from "./common.js";
import { talosClientFromFlags } from "./connect.js";

function failures(results: NodeResult<unknown>[]): number {
  return results.filter((r) => !r.ok).length;
}

function renderValue(value: unknown): string {
  if (typeof value === "string") return value;
  return JSON.stringify(value, null, 2);
}

function byNode<T>(results: NodeResult<T>[], line: (value: T) => string): string {
  return results
    .map((r) => (r.ok ? `${r.node}  ${line(r.value)}` : `${r.node}  error: ${r.error.message}`))
    .join("\n");
}

function nodeJson<T>(results: NodeResult<T>[]): unknown[] {
  return results.map((r) =>
    r.ok
      ? {
          node: r.node,
          ...((typeof r.value === "object" && r.value !== null ? r.value : { value: r.value }) as object),
        }
      : { node: r.node, error: { code: r.error.code, message: r.error.message } },
  );
}

async function dispatch(inv: Invocation, client: TalosClient, nodes: string[] | undefined): Promise<number> {
  const { out, path, args, ctx } = inv;
  const verb = path.slice(1).join(" ");
  const target = nodes ? { nodes } : {};
  const node = nodes?.[0];
  switch (verb) {
    case "version": {
      const results = await client.version(target);
      out.result(
        {
          nodes: results.map((r) =>
            r.ok
              ? { address: r.node, tag: r.value.tag, sha: r.value.sha, arch: r.value.arch }
              : { address: r.node, error: { code: r.error.code, message: r.error.message } },
          ),
        },
        () => byNode(results, (v) => `${v.tag} (${v.arch})`),
      );
      return failures(results) > 0 ? 1 : 0;
    }
    case "services": {
      const results = (await client.serviceList(target)) as NodeResult<unknown>[];
      out.result({ nodes: nodeJson(results) }, () => byNode(results, renderValue));
      return failures(results) > 0 ? 1 : 0;
    }
    case "health": {
      const timeout = Number(stringOption(inv, "wait-timeout") ?? "300");
      const step = out.step("waiting for the cluster to be healthy");
      const all = nodes ?? [];
      const report = await client
        .waitForHealthy({
          controlPlaneNodes: all.slice(0, 1),
          workerNodes: all.slice(1),
          timeoutMs: timeout * 1000,
          signal: ctx.signal,
          onProgress: (e) => step.update(e.message),
        })
        .catch((error: unknown) => {
          step.fail();
          throw error;
        });
      step.done("cluster healthy");
      out.result({ healthy: true, report }, () => renderValue(report));
      return 0;
    }
    case "kubeconfig": {
      const kubeconfig = await client.kubeconfig(node ? { node } : {});
      const file = stringOption(inv, "out");
      if (file) {
        const full = resolve(ctx.cwd, file);
        await writeFileAtomic(full, kubeconfig, 0o600);
        out.result({ written: full }, `wrote ${full} (0600)`);
      } else if (inv.flags.json) {
        out.result({ kubeconfig }, "");
      } else {
        out.print(kubeconfig);
      }
      return 0;
    }
    case "logs": {
      const tail = stringOption(inv, "tail");
      const logs = await client.logs({
        service: args[0],
        ...(node ? { node } : {}),
        ...(tail ? { tailLines: Number(tail) } : {}),
      });
      out.result({ service: args[0], logs }, () => renderValue(logs));
      return 0;
    }
    case "dmesg": {
      const text = await client.dmesg(node ? { node } : {});
      out.result({ dmesg: text }, () => renderValue(text));
      return 0;
    }
    case "get": {
      const [type, id] = args;
      const ns = stringOption(inv, "namespace");
      const request = { type, ...(ns ? { namespace: ns } : {}), ...(node ? { node } : {}) };
      const value = id === undefined ? await client.list(request) : await client.get({ ...request, id });
      out.result({ resources: value }, () => renderValue(value));
      return 0;
    }
    case "apply": {
      const file = resolve(ctx.cwd, args[0] as string);
      const data = await readFile(file, "utf8").catch((cause: unknown) => {
        throw new HomelabError("USAGE", `cannot read ${args[0]}`, { cause });
      });
      const mode = (stringOption(inv, "mode") ?? "auto") as "auto";
      const result = await client.applyConfiguration({
        data,
        mode,
        dryRun: inv.options["dry-run"] === true,
        ...(node ? { node } : {}),
      });
      out.result(result, () =>
        [`${result.node}: ${result.modeDetails}`, ...result.warnings.map((w) => `warning: ${w}`)].join("\n"),
      );
      return 0;
    }
    case "upgrade": {
      const image = stringOption(inv, "image");
      if (!image)
        throw new HomelabError(
          "USAGE",
          "talos upgrade needs --image (see `homelab image urls` for the installer image)",
        );
      if (!(await confirm(inv, `upgrade ${nodes?.join(", ") ?? "the default nodes"} to ${image}?`))) return 1;
      const result = await client.upgrade({ image, stage: inv.options.stage === true, ...target });
      out.result({ upgraded: result }, () => renderValue(result));
      return 0;
    }
    case "reboot": {
      if (!(await confirm(inv, `reboot ${nodes?.join(", ") ?? "the default nodes"}?`))) return 1;
      const result = await client.reboot(target);
      out.result({ rebooted: result }, () => renderValue(result));
      return 0;
    }
    case "reset": {
      if (
        !(await confirm(
          inv,
          `reset ${nodes?.join(", ") ?? "the default nodes"}? This wipes them back to maintenance mode`,
        ))
      )
        return 1;
      const result = await client.reset({ graceful: inv.options.graceful === true, ...target });
      out.result({ reset: result }, () => renderValue(result));
      return 0;
    }
    case "etcd members": {
      const members = await client.etcdMemberList(node ? { node } : {});
      out.result({ members }, () => renderValue(members));
      return 0;
    }
    case "etcd snapshot": {
      if (!client.etcdSnapshot)
        throw new HomelabError(
          "NOT_AVAILABLE",
          "etcd snapshot is not available in this build of talos-client",
        );
      const data = await client.etcdSnapshot(node ? { node } : {});
      const full = resolve(ctx.cwd, args[0] as string);
      await writeFileAtomic(full, data as Uint8Array, 0o600);
      out.result({ written: full }, `wrote ${full} (0600)`);
      return 0;
    }
    default:
      throw new HomelabError("USAGE", `unknown talos command '${verb}'`);
  }
}

/** `homelab talos <verb>` */
export const run: RunFn = async (inv) => {
  const { client, nodes } = await talosClientFromFlags(inv, `homelab ${inv.path.join(" ")}`);
  try {
    return await dispatch(inv, client, nodes);
  } finally {
    client.close();
  }
};
