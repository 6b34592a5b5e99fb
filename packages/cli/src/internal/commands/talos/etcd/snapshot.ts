import { resolve } from "node:path";
import { defineCommand } from "../../../cli/command.js";
import { TALOS_CONNECTION } from "../../options.js";
import { withTalos } from "../shared.js";

/** `homelab talos etcd snapshot FILE`: streamed to a temp file (0600), renamed when complete. */
export const command = defineCommand({
  name: "snapshot",
  summary: "Stream an etcd snapshot to a file (0600)",
  args: [{ name: "file", description: "Where to write the snapshot", required: true }],
  options: { ...TALOS_CONNECTION },
  run: (inv) =>
    withTalos(inv, async (client, nodes) => {
      const node = nodes?.[0];
      const full = resolve(inv.ctx.cwd, inv.args[0] as string);
      const temp = `${full}.${process.pid}.tmp`;
      const { createWriteStream } = await import("node:fs");
      const { rename, rm } = await import("node:fs/promises");
      const destination = createWriteStream(temp, { mode: 0o600 });
      try {
        const result = await client.etcdSnapshot({ ...(node ? { node } : {}), destination });
        await new Promise<void>((done, fail) => destination.close((e) => (e ? fail(e) : done())));
        await rename(temp, full);
        inv.out.result(
          { written: full, node: result.node, bytes: result.bytes },
          `wrote ${full} (${result.bytes} bytes, 0600)`,
        );
      } catch (error) {
        destination.destroy();
        await rm(temp, { force: true });
        throw error;
      }
      return 0;
    }),
});
