import { IN_CLUSTER_SERVER } from "../constants.js";
import { isRecord } from "./util.js";

// Argo CD's AppProject permission rules, read from argoproj/argo-cd v3.5.1
// pkg/apis/application/v1alpha1/app_project_types.go (IsSourcePermitted, isDestinationMatched,
// IsGroupKindNamePermitted, globMatch, isResourceInList) and util/git/git.go (NormalizeGitURL).

type Obj = Record<string, unknown>;

/**
 * gobwas/glob as Argo CD uses it: `*` matches any run of characters except the separators (anything
 * when there are none), `**` matches across separators, `?` one character, `{a,b}` alternatives,
 * `[...]` a class.
 */
export function globMatch(pattern: string, value: string, allowNegation: boolean, separators = ""): boolean {
  if (allowNegation && pattern.startsWith("!")) return !globMatch(pattern.slice(1), value, false, separators);
  if (pattern === "*") return true;
  const notSep = separators === "" ? "[\\s\\S]" : `[^${separators.replace(/[\\\]^-]/g, "\\$&")}]`;
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        source += "[\\s\\S]*";
        i++;
      } else source += `${notSep}*`;
    } else if (c === "?") source += notSep;
    else if (c === "{") {
      const end = pattern.indexOf("}", i);
      if (end < 0) source += "\\{";
      else {
        source += `(?:${pattern
          .slice(i + 1, end)
          .split(",")
          .map((p) => p.replace(/[.+?^$()|[\]\\*]/g, "\\$&"))
          .join("|")})`;
        i = end;
      }
    } else if (c === "[") {
      const end = pattern.indexOf("]", i);
      if (end < 0) source += "\\[";
      else {
        source += `[${pattern.slice(i + 1, end).replace(/^!/, "^")}]`;
        i = end;
      }
    } else source += c.replace(/[.+^$()|\\/]/g, "\\$&");
  }
  return new RegExp(`^${source}$`).test(value);
}

/** util/git NormalizeGitURL: lower case, trimmed, `.git` suffix dropped, scp-style SSH made a URL. */
export function normalizeGitUrl(url: string): string {
  let repo = url.trim().toLowerCase();
  if (/^[\w.-]+@[\w.-]+:/.test(repo) && !repo.startsWith("ssh://")) repo = `ssh://${repo.replace(":", "/")}`;
  repo = repo.replace(/\.git$/, "");
  return repo.replace(/^ssh:\/\//, "");
}

/** IsSourcePermitted: some sourceRepos pattern matches (with `/` as separator) and no deny pattern refuses. */
export function isSourcePermitted(projectSpec: Obj, repoURL: string): boolean {
  const source = normalizeGitUrl(repoURL);
  let matchedAny = false;
  for (const raw of list(projectSpec.sourceRepos).map(String)) {
    const normalized = raw.startsWith("!") ? `!${normalizeGitUrl(raw.slice(1))}` : normalizeGitUrl(raw);
    const matched = globMatch(normalized, source, true, "/");
    if (matched) matchedAny = true;
    else if (normalized.startsWith("!")) return false;
  }
  return matchedAny;
}

/** isDestinationMatched: server (or name) and namespace both match one entry; deny entries refuse. */
export function isDestinationPermitted(
  projectSpec: Obj,
  destination: { server?: string | undefined; name?: string | undefined; namespace: string },
): boolean {
  // Argo CD resolves the cluster first: in-cluster is both the name and the server.
  const server =
    destination.server ?? (destination.name === "in-cluster" ? IN_CLUSTER_SERVER : undefined) ?? "";
  const name = destination.name ?? (destination.server === IN_CLUSTER_SERVER ? "in-cluster" : "");
  let matchedAny = false;
  for (const item of list(projectSpec.destinations).filter(isRecord)) {
    const itemName = String(item.name ?? "");
    const itemServer = String(item.server ?? "");
    const itemNamespace = String(item.namespace ?? "");
    const nameMatched = name !== "" && globMatch(itemName, name, true);
    const serverMatched = server !== "" && globMatch(itemServer, server, true);
    const namespaceMatched = globMatch(itemNamespace, destination.namespace, true);
    if ((serverMatched || nameMatched) && namespaceMatched) matchedAny = true;
    else if (
      (!nameMatched && itemName.startsWith("!")) ||
      (!serverMatched && itemServer.startsWith("!") && namespaceMatched)
    )
      return false;
    else if (!namespaceMatched && itemNamespace.startsWith("!") && serverMatched) return false;
  }
  return matchedAny;
}

/**
 * IsGroupKindNamePermitted: a namespaced kind is allowed unless blacklisted (or a non-empty whitelist
 * leaves it out); a cluster-scoped kind only when the cluster whitelist lists it.
 */
export function isGroupKindPermitted(
  projectSpec: Obj,
  resource: { group: string; kind: string; name?: string },
  namespaced: boolean,
): boolean {
  const inList = (value: unknown): boolean =>
    list(value)
      .filter(isRecord)
      .some(
        (item) =>
          globMatch(String(item.kind ?? ""), resource.kind, false) &&
          globMatch(String(item.group ?? ""), resource.group, false) &&
          (item.name === undefined ||
            item.name === "" ||
            globMatch(String(item.name), resource.name ?? "", false)),
      );
  if (namespaced) {
    const whitelist = projectSpec.namespaceResourceWhitelist;
    const whitelisted = whitelist === undefined || whitelist === null || inList(whitelist);
    return whitelisted && !inList(projectSpec.namespaceResourceBlacklist);
  }
  return inList(projectSpec.clusterResourceWhitelist) && !inList(projectSpec.clusterResourceBlacklist);
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
