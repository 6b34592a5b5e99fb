export type { KubeNodes, NodeRegistration, NodeTaint, StaticPodSpec } from "./cluster-nodes.js";
export type {
  HelmStandIn,
  HelmStandInCall,
  HelmStandInFailure,
  HelmStandInOptions,
} from "./helm-stand-in.js";
export { createHelmStandIn } from "./helm-stand-in.js";
export type {
  ApiFault,
  ArgoStandIn,
  KubeEmulator,
  KubeEmulatorFaults,
  KubeEmulatorOptions,
  KubeRequestLogEntry,
  RolloutStall,
} from "./kube-emulator.js";
export { createKubeEmulator } from "./kube-emulator.js";
export type { ResourceType, StoredObject } from "./store.js";
