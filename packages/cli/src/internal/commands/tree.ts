import type { CommandSpec, OptionSpec } from "../cli/spec.js";

// Metadata only: every handler is a dynamic import so `--help`/`--version` load nothing heavy.

const talosConnection: Record<string, OptionSpec> = {
  talosconfig: {
    type: "string",
    valueName: "FILE",
    description: "talosconfig (default $TALOSCONFIG, then ~/.talos/config)",
  },
  context: { type: "string", valueName: "NAME", description: "talosconfig context" },
  endpoints: {
    type: "string",
    short: "e",
    valueName: "HOSTS",
    description: "Comma-separated endpoints (host or host:port)",
  },
  nodes: {
    type: "string",
    short: "n",
    valueName: "HOSTS",
    description: "Comma-separated target nodes (host or host:port)",
  },
  insecure: {
    type: "boolean",
    short: "i",
    description: "Maintenance mode: server-only TLS, no client certificate",
  },
};

const engineOption: OptionSpec = {
  type: "string",
  valueName: "ENGINE",
  choices: ["tofu", "direct"],
  description: "Provisioning engine (default: 'engine' in homelab.yaml, else tofu)",
};

const kubeconfigOption: OptionSpec = {
  type: "string",
  valueName: "FILE",
  description: "kubeconfig (default $KUBECONFIG, then the state dir's)",
};

function talos(name: string, summary: string, extra: Partial<CommandSpec> = {}): CommandSpec {
  return {
    name,
    summary,
    ...extra,
    options: { ...talosConnection, ...(extra.options ?? {}) },
    load: async () => (await import("./talos.js")).run,
  };
}

/** The whole command tree. */
export const ROOT: CommandSpec = {
  name: "homelab",
  summary: "one declarative file to a running Talos Kubernetes homelab",
  subcommands: [
    {
      name: "init",
      summary:
        "Write a commented homelab.yaml, .gitignore entries and the cluster/ and infrastructure/ skeletons",
      options: { force: { type: "boolean", description: "Overwrite an existing homelab.yaml" } },
      load: async () => (await import("./init.js")).run,
    },
    {
      name: "render",
      summary:
        "Write each node's Talos patches and the tofu variables (--full: complete configs + talosconfig)",
      options: {
        out: {
          type: "string",
          short: "o",
          valueName: "DIR",
          description: "Output directory (default: infrastructure/ next to the config)",
        },
        full: {
          type: "boolean",
          description:
            "Also write complete machine configs (from secrets.yaml, generated once) and a talosconfig",
        },
      },
      load: async () => (await import("./render.js")).run,
    },
    {
      name: "doctor",
      summary:
        "Lint homelab.yaml with every library's rules (--live: also reachability, versions, health, tunnel audit)",
      options: { live: { type: "boolean", description: "Also check the live cluster and Cloudflare" } },
      load: async () => (await import("./doctor.js")).run,
    },
    {
      name: "plan",
      summary:
        "One change set across every layer (exit 0 no changes, 2 changes or a layer not planned, 1 error)",
      options: {
        engine: engineOption,
        simulate: { type: "boolean", description: "Plan against the simulated lab" },
      },
      load: async () => (await import("./plan.js")).run,
    },
    {
      name: "up",
      summary: "Bring the homelab to the state in homelab.yaml (resumable, idempotent)",
      options: {
        engine: engineOption,
        simulate: {
          type: "boolean",
          description: "Run everything in-process against the emulators (no hardware, no accounts)",
        },
        "state-dir": {
          type: "string",
          valueName: "DIR",
          description: "State directory (default .homelab/<cluster> next to the config)",
        },
        reinstall: {
          type: "string",
          multiple: true,
          valueName: "NODE",
          description:
            "A node known as configured that was wiped and is in maintenance mode again: allow sending it its config",
        },
        "cert-fingerprint": {
          type: "string",
          multiple: true,
          valueName: "NODE=SHA256",
          description:
            "Pin a node's maintenance-mode certificate (base64 sha256 SPKI, as on its console; like talosctl --cert-fingerprint)",
        },
      },
      examples: [
        "homelab up --simulate --config examples/homelab.yaml",
        "homelab up --engine direct --yes",
        "homelab up --reinstall node2 --cert-fingerprint node2=<fingerprint>",
      ],
      load: async () => (await import("./up.js")).run,
    },
    {
      name: "lab",
      summary:
        "Run the simulated lab in the foreground (Ctrl-C stops it); writes a talosconfig, kubeconfig and Cloudflare URL",
      options: {
        "state-dir": {
          type: "string",
          valueName: "DIR",
          description: "Where to write the lab's files (default .homelab/<cluster>/lab)",
        },
        bare: {
          type: "boolean",
          description: "Do not run `up` against the lab (nodes stay in maintenance mode)",
        },
      },
      load: async () => (await import("./lab.js")).run,
    },
    {
      name: "talos",
      summary: "Talos machine API: version, health, services, kubeconfig, logs, apply, upgrade, etcd ...",
      subcommands: [
        talos("version", "Each node's Talos version"),
        talos("health", "Wait for the cluster to be healthy", {
          options: {
            "wait-timeout": {
              type: "string",
              valueName: "SECONDS",
              description: "How long to wait (default 300)",
            },
          },
        }),
        talos("services", "Services and their state on each node"),
        talos("kubeconfig", "Fetch the admin kubeconfig", {
          options: {
            out: {
              type: "string",
              short: "o",
              valueName: "FILE",
              description: "Write it to FILE (0600) instead of stdout",
            },
          },
        }),
        talos("logs", "A service's logs", {
          args: [
            {
              name: "service",
              description: "Service id, e.g. kubelet, etcd, ext-cloudflared",
              required: true,
            },
          ],
          options: {
            tail: { type: "string", valueName: "N", description: "Only the last N lines" },
            follow: {
              type: "boolean",
              short: "f",
              description: "Keep printing new lines until Ctrl-C (--json: one JSON object per line)",
            },
          },
        }),
        talos("dmesg", "The kernel log", {
          options: {
            follow: {
              type: "boolean",
              short: "f",
              description: "Keep printing new lines until Ctrl-C (--json: one JSON object per line)",
            },
          },
        }),
        talos("get", "Get or list COSI resources", {
          args: [
            {
              name: "type",
              description: "Resource type or alias, e.g. members, machinestatus",
              required: true,
            },
            { name: "id", description: "Resource id" },
          ],
          options: { namespace: { type: "string", valueName: "NS", description: "Resource namespace" } },
        }),
        talos("apply", "Apply a machine configuration", {
          args: [{ name: "file", description: "Machine config YAML", required: true }],
          options: {
            mode: {
              type: "string",
              valueName: "MODE",
              choices: ["auto", "no-reboot", "reboot", "staged", "try"],
              description: "Apply mode (default auto)",
            },
            "dry-run": { type: "boolean", description: "Only show what would change" },
          },
        }),
        talos("upgrade", "Upgrade Talos on the nodes", {
          options: {
            image: {
              type: "string",
              valueName: "IMAGE",
              description: "Installer image (default: from homelab.yaml's schematic and version)",
            },
            stage: { type: "boolean", description: "Stage the upgrade for the next reboot" },
          },
        }),
        talos("reboot", "Reboot the nodes"),
        talos("reset", "Wipe the nodes back to maintenance mode (destructive)", {
          options: { graceful: { type: "boolean", description: "Leave etcd gracefully first" } },
        }),
        {
          name: "etcd",
          summary: "etcd members and snapshots",
          subcommands: [
            talos("members", "List etcd members"),
            talos("snapshot", "Stream an etcd snapshot to a file (0600)", {
              args: [{ name: "file", description: "Where to write the snapshot", required: true }],
            }),
          ],
        },
      ],
    },
    {
      name: "image",
      summary: "Image Factory schematic, ISO URLs and installer image for the cluster's extensions",
      subcommands: [
        {
          name: "schematic",
          summary: "Print the schematic YAML and its id",
          load: async () => (await import("./image.js")).run,
        },
        {
          name: "urls",
          summary: "Metal ISO URLs and the installer image (step one of a new homelab: boot that ISO)",
          options: {
            arch: {
              type: "string",
              valueName: "ARCH",
              choices: ["amd64", "arm64"],
              description: "Only this architecture",
            },
          },
          load: async () => (await import("./image.js")).run,
        },
      ],
    },
    {
      name: "tunnel",
      summary: "Cloudflare tunnel, DNS and Access",
      subcommands: [
        {
          name: "plan",
          summary: "What `tunnel sync` would change",
          load: async () => (await import("./tunnel.js")).run,
        },
        {
          name: "sync",
          summary: "Reconcile the tunnel, ingress, DNS records and Access",
          load: async () => (await import("./tunnel.js")).run,
        },
        {
          name: "audit",
          summary: "Check DNS, ingress rules, Access and connectors",
          load: async () => (await import("./tunnel.js")).run,
        },
        {
          name: "rotate-token",
          summary: "Give the tunnel a new secret and roll it to each node's cloudflared, one node at a time",
          options: { ...talosConnection },
          load: async () => (await import("./tunnel.js")).run,
        },
      ],
    },
    {
      name: "argo",
      summary: "Argo CD: bootstrap, status, upgrade, rollback, add-app, password",
      subcommands: [
        {
          name: "bootstrap",
          summary: "Install Argo CD with Helm, wait for it, apply the cluster secrets and the root app",
          options: {
            kubeconfig: kubeconfigOption,
            force: {
              type: "boolean",
              description:
                "Reinstall Argo CD's Helm release even when it looks up to date (other workloads untouched)",
            },
          },
          load: async () => (await import("./argo.js")).run,
        },
        {
          name: "status",
          summary: "Read-only: the release's chart and values, the root application's sync and health",
          options: {
            kubeconfig: kubeconfigOption,
          },
          load: async () => (await import("./argo.js")).run,
        },
        {
          name: "upgrade",
          summary: "Show the chart versions in between, upgrade, wait, and write the version to homelab.yaml",
          options: {
            version: { type: "string", valueName: "X", description: "Chart version to upgrade to" },
            kubeconfig: kubeconfigOption,
          },
          load: async () => (await import("./argo.js")).run,
        },
        {
          name: "rollback",
          summary: "Roll Argo CD's Helm release back (default: the previous revision) and wait",
          options: {
            revision: { type: "string", valueName: "N", description: "Release revision to roll back to" },
            kubeconfig: kubeconfigOption,
          },
          load: async () => (await import("./argo.js")).run,
        },
        {
          name: "add-app",
          summary: "Write an Application for a Helm chart or Git path under cluster/apps",
          args: [{ name: "name", description: "Application name", required: true }],
          options: {
            repo: { type: "string", valueName: "URL", description: "Helm repository or Git URL" },
            chart: { type: "string", valueName: "CHART", description: "Helm chart name (Helm application)" },
            "chart-version": { type: "string", valueName: "VERSION", description: "Helm chart version" },
            path: {
              type: "string",
              valueName: "PATH",
              description: "Path in the Git repository (Git application)",
            },
            namespace: {
              type: "string",
              valueName: "NS",
              description: "Destination namespace (default: the name)",
            },
            dir: {
              type: "string",
              valueName: "DIR",
              description: "GitOps directory (default cluster/ next to the config)",
            },
          },
          load: async () => (await import("./argo.js")).run,
        },
        {
          name: "password",
          summary: "Print the initial admin password",
          options: {
            kubeconfig: kubeconfigOption,
          },
          load: async () => (await import("./argo.js")).run,
        },
      ],
    },
    {
      name: "infra",
      summary: "OpenTofu for infrastructure/: plan, apply, output, destroy",
      subcommands: ["plan", "apply", "output", "destroy"].map((verb) => ({
        name: verb,
        summary: {
          plan: "tofu plan (exit 0 no changes, 2 changes)",
          apply: "tofu apply",
          output: "tofu outputs (secrets written 0600, never printed)",
          destroy: "tofu destroy (asks first; --yes without a TTY)",
        }[verb] as string,
        options: {
          dir: {
            type: "string",
            valueName: "DIR",
            description: "infrastructure directory (default infrastructure/ next to the config)",
          },
        },
        load: async () => (await import("./infra.js")).run,
      })),
    },
    {
      name: "completion",
      summary: "Print a shell completion script",
      args: [{ name: "shell", description: "bash, zsh or fish", required: true }],
      load: async () => (await import("./completion.js")).run,
    },
  ],
};
