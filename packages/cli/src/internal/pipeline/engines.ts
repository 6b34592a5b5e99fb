import type { Step } from "./step.js";
import { argocdStep } from "./steps/argocd.js";
import { bootstrapStep, healthStep } from "./steps/bootstrap.js";
import { kubeconfigStep } from "./steps/kubeconfig.js";
import { machineConfigStep } from "./steps/machine-config.js";
import { secretsStep } from "./steps/secrets.js";
import { talosconfigStep } from "./steps/talosconfig.js";
import { tunnelStep } from "./steps/tunnel.js";
import { tunnelRoutesStep } from "./steps/tunnel-routes.js";

/** The direct engine: the libraries do everything, in this order. */
export const DIRECT_STEPS: readonly Step[] = [
  secretsStep,
  tunnelStep,
  talosconfigStep,
  machineConfigStep as Step,
  bootstrapStep,
  healthStep,
  kubeconfigStep as Step,
  tunnelRoutesStep,
  argocdStep,
];
