import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { stringify as stringifyYaml } from "yaml";
import { HomelabError } from "../../errors.js";
import type { NodeResult, TalosClient } from "../adapters/talos-client.js";
import type { Invocation, RunFn } from "../cli/spec.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { confirm, stringOption } from "./common.js";
import { talosClientFromFlags } from "./connect.js";

/**
 * Prints each line of a followed stream as it arrives (with --json: one `{ ...fields, line }` object per
 * line) until the stream ends or Ctrl-C aborts the Context's signal: then 130, without an error message.
 */
async function followLines(
  inv: Invocation,
  stream: AsyncIterable<string>,
  fields: Record<string, string>,
): Promise<number> {
  const { ctx } = inv;
  try {
    for await (const raw of stream) {
      const line = raw.replace(/\n$/, "");
      ctx.stdout.write(inv.flags.json ? `${JSON.stringify({ ...fields, line })}\n` : `${line}\n`);
    }
  } catch (error) {
    if (ctx.signal.aborted) return 130;
    throw error;
  }
  return ctx.signal.aborted ? 130 : 0;
}

function failures(results: NodeResult<unknown>[]): number {
  return results.filter((r) => !r.ok).length;
}

/** Human output is YAML: JSON is printed only with --json. */
function renderValue(value: unknown): string {
  if (typeof value === "string") return value;
  return stringifyYaml(value).trimEnd();
}

function byNode<T>(results: NodeResult<T>[], line: (value: T) => string): string {
  return results
    .map((r) => (r.ok ? `${r.node}  ${line(r.value)}` : `${r.node}  error: ${r.error.message}`))
    .join("\n");
}

/** One object per node: the node's value spread in, or under `listKey` when it is a list (never spread). */
function nodeJson<T>(results: NodeResult<T>[], listKey = "items"): unknown[] {
  return results.map((r) =>
    r.ok
      ? Array.isArray(r.value)
        ? { node: r.node, [listKey]: r.value }
        : {
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
      const results = await client.serviceList(target);
      out.result({ nodes: nodeJson(results, "services") }, () =>
        results
          .map((r) =>
            r.ok
              ? [
                  `${r.node}`,
                  ...r.value.map(
                    (s) => `  ${s.id.padEnd(16)} ${s.state.padEnd(10)} ${s.health.healthy ? "healthy" : "?"}`,
                  ),
                ].join("\n")
              : `${r.node}  error: ${r.error.message}`,
          )
          .join("\n"),
      );
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
          onProgress: (e) => step.update(e),
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
      const service = args[0] as string;
      const tail = stringOption(inv, "tail");
      if (tail !== undefined && !/^\d+$/.test(tail))
        throw new HomelabError("USAGE", `--tail needs a whole number of lines, got '${tail}'`);
      const follow = inv.options.follow === true;
      const stream = client.logs({
        id: service,
        ...(node ? { node } : {}),
        ...(tail !== undefined ? { tailLines: Number(tail) } : {}),
        follow,
        signal: ctx.signal,
      });
      if (follow) return followLines(inv, stream, { service });
      const lines: string[] = [];
      for await (const line of stream) lines.push(line.replace(/\n$/, ""));
      out.result({ service, lines }, () => lines.join("\n"));
      return 0;
    }
    case "dmesg": {
      const follow = inv.options.follow === true;
      const stream = client.dmesg({ ...(node ? { node } : {}), follow, signal: ctx.signal });
      if (follow) return followLines(inv, stream, {});
      const lines: string[] = [];
      for await (const line of stream) lines.push(line.replace(/\n$/, ""));
      out.result({ lines }, () => lines.join("\n"));
      return 0;
    }
    case "get": {
      const [type, id] = args;
      const ns = stringOption(inv, "namespace");
      const request = { type: type as string, ...(ns ? { namespace: ns } : {}), ...(node ? { node } : {}) };
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
      const results: unknown[] = [];
      for (const n of nodes ?? [undefined])
        results.push(
          await client.upgrade({ image, stage: inv.options.stage === true, ...(n ? { node: n } : {}) }),
        );
      out.result({ upgraded: results }, () => results.map((r) => renderValue(r)).join("\n"));
      return 0;
    }
    case "reboot": {
      if (!(await confirm(inv, `reboot ${nodes?.join(", ") ?? "the default nodes"}?`))) return 1;
      const results: { node: string; actorId: string }[] = [];
      for (const n of nodes ?? [undefined]) results.push(await client.reboot(n ? { node: n } : {}));
      out.result({ rebooted: results }, () =>
        results.map((r) => `${r.node}: rebooting (${r.actorId})`).join("\n"),
      );
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
      const results: { node: string; actorId: string }[] = [];
      for (const n of nodes ?? [undefined])
        results.push(
          await client.reset({ graceful: inv.options.graceful === true, ...(n ? { node: n } : {}) }),
        );
      out.result({ reset: results }, () =>
        results.map((r) => `${r.node}: resetting (${r.actorId})`).join("\n"),
      );
      return 0;
    }
    case "etcd members": {
      const members = await client.etcdMemberList(node ? { node } : {});
      const plain = members.map((m) => ({ ...m, id: String(m.id) }));
      out.result({ members: plain }, () =>
        plain
          .map(
            (m) =>
              `${m.id.padEnd(20)} ${m.hostname.padEnd(12)} ${m.peerUrls.join(",")}${m.isLearner ? " (learner)" : ""}`,
          )
          .join("\n"),
      );
      return 0;
    }
    case "etcd snapshot": {
      const full = resolve(ctx.cwd, args[0] as string);
      const temp = `${full}.${process.pid}.tmp`;
      const { createWriteStream } = await import("node:fs");
      const { rename, rm } = await import("node:fs/promises");
      const destination = createWriteStream(temp, { mode: 0o600 });
      try {
        const result = await client.etcdSnapshot({ ...(node ? { node } : {}), destination });
        await new Promise<void>((done, fail) => destination.close((e) => (e ? fail(e) : done())));
        await rename(temp, full);
        out.result(
          { written: full, node: result.node, bytes: result.bytes },
          `wrote ${full} (${result.bytes} bytes, 0600)`,
        );
      } catch (error) {
        destination.destroy();
        await rm(temp, { force: true });
        throw error;
      }
      return 0;
    }
    default:
      throw new HomelabError("USAGE", `unknown talos command '${verb}'`);
  }
}

/** `homelab talos <verb>` */
export const run: RunFn = async (inv) => {
  const { client, nodes } = await talosClientFromFlags(inv);
  try {
    return await dispatch(inv, client, nodes);
  } finally {
    client.close();
  }
};
