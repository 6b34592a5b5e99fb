import { HomelabError } from "../../../errors.js";
import { loadArgoBootstrap } from "../../adapters/argo-bootstrap.js";
import { defineCommand } from "../../cli/command.js";
import { loadProject } from "../common.js";
import { KUBECONFIG_OPTION } from "../options.js";
import { kubeconfigOf } from "./common.js";

/** `homelab argo password` */
export const command = defineCommand({
  name: "password",
  summary: "Print the initial admin password",
  options: { kubeconfig: KUBECONFIG_OPTION },
  async run(inv) {
    const loaded = await loadProject(inv, { resolveSecrets: false });
    const { text: kubeconfig } = await kubeconfigOf(inv, loaded);
    const argo = await loadArgoBootstrap();
    const namespace = loaded.config.argocd?.namespace ?? "argocd";
    const result = await argo.readInitialAdminPassword({ kubeconfig, namespace });
    if (!result.found)
      throw new HomelabError("COMMAND_FAILED", `no initial admin password: ${result.reason}`, {
        hint: "Argo CD deletes argocd-initial-admin-secret once the password was changed",
      });
    const password = result.password.reveal();
    // the user asked for it: the one place a secret goes to stdout
    if (inv.flags.json) inv.out.result({ username: "admin", password }, "");
    else inv.out.print(password);
    return 0;
  },
});
