import { HomelabError } from "../../errors.js";
import type { RunFn } from "../cli/spec.js";
import { type CommandSpec, GLOBAL_OPTIONS } from "../cli/spec.js";
import { ROOT } from "./tree.js";

function walk(spec: CommandSpec, path: string[], visit: (spec: CommandSpec, path: string[]) => void): void {
  visit(spec, path);
  for (const c of spec.subcommands ?? []) walk(c, [...path, c.name], visit);
}

function flagsOf(spec: CommandSpec): string[] {
  return Object.keys({ ...GLOBAL_OPTIONS, ...(spec.options ?? {}) }).map((o) => `--${o}`);
}

function bash(): string {
  const cases: string[] = [];
  walk(ROOT, [], (spec, path) => {
    const words = [...(spec.subcommands ?? []).map((c) => c.name), ...flagsOf(spec)].join(" ");
    cases.push(`    "${path.join(" ")}") words="${words}" ;;`);
  });
  return `# homelab bash completion: eval "$(homelab completion bash)"
_homelab() {
  local cur path="" w
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$w" in -*) ;; *) path="\${path:+$path }$w" ;; esac
  done
  local words=""
  case "$path" in
${cases.join("\n")}
  esac
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}
complete -o default -F _homelab homelab
`;
}

function zsh(): string {
  return `#compdef homelab
# homelab zsh completion: homelab completion zsh > "\${fpath[1]}/_homelab"
autoload -U bashcompinit && bashcompinit
${bash()}`;
}

function fish(): string {
  const lines = [
    "# homelab fish completion: homelab completion fish > ~/.config/fish/completions/homelab.fish",
  ];
  walk(ROOT, [], (spec, path) => {
    const cond =
      path.length === 0 ? "__fish_use_subcommand" : `__fish_seen_subcommand_from ${path[path.length - 1]}`;
    for (const c of spec.subcommands ?? [])
      lines.push(`complete -c homelab -n '${cond}' -f -a ${c.name} -d '${c.summary.replace(/'/g, "")}'`);
  });
  for (const [name, o] of Object.entries(GLOBAL_OPTIONS))
    lines.push(
      `complete -c homelab -l ${name}${o.short ? ` -s ${o.short}` : ""} -d '${o.description.replace(/'/g, "")}'`,
    );
  return `${lines.join("\n")}\n`;
}

/** `homelab completion <shell>` */
export const run: RunFn = async ({ out, args }) => {
  const shell = args[0];
  const scripts: Record<string, () => string> = { bash, zsh, fish };
  const make = shell === undefined ? undefined : scripts[shell];
  if (!make) throw new HomelabError("USAGE", `unsupported shell '${shell}': expected bash, zsh or fish`);
  const script = make();
  out.result({ shell, script }, script);
  return 0;
};
