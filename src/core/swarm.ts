// Swarm facts (pure): services and nodes from `docker service inspect` / `docker node inspect` JSON,
// which nodes may run a service, and which configured host each node is.

/** The parts of `docker service inspect` releaseflow reads. */
export interface ServiceJson {
  ID: string;
  Spec: {
    Name: string;
    Labels?: Record<string, string> | null;
    TaskTemplate: { ContainerSpec: { Image: string }; Placement?: { Constraints?: string[] | null } | null };
    Mode?: { Replicated?: { Replicas?: number }; Global?: object };
    UpdateConfig?: { Parallelism?: number; Delay?: number; FailureAction?: string; Monitor?: number } | null;
  };
  UpdateStatus?: { State?: string; Message?: string } | null;
}

/** The parts of `docker node inspect` releaseflow reads. */
export interface NodeJson {
  ID: string;
  Spec: { Role?: string; Availability?: string; Labels?: Record<string, string> | null };
  Description?: { Hostname?: string };
  Status?: { State?: string; Addr?: string };
}

/** A swarm node as releaseflow sees it. */
export interface SwarmNode {
  id: string;
  hostname: string;
  addr: string;
  role: string;
  ready: boolean;
  active: boolean;
  labels: Record<string, string>;
}

/** A service releaseflow releases: its spec's image and what its update takes. */
export interface SwarmService {
  id: string;
  name: string;
  /** The image of the spec as written (`sha256:<id>` when releaseflow or the operator pinned it). */
  specImage: string;
  replicas?: number;
  global: boolean;
  constraints: string[];
  failureAction: string;
  /** Seconds one task's update may take beyond its start: delay + monitor. */
  perTaskS: number;
  parallelism: number;
  stack?: string;
  updateState?: string;
}

const NS = 1e9;

/** A service's facts from its inspect JSON. */
export function toSwarmService(s: ServiceJson): SwarmService {
  const u = s.Spec.UpdateConfig ?? {};
  const stack = s.Spec.Labels?.['com.docker.stack.namespace'];
  return {
    id: s.ID,
    name: s.Spec.Name,
    specImage: s.Spec.TaskTemplate.ContainerSpec.Image,
    replicas: s.Spec.Mode?.Replicated?.Replicas,
    global: Boolean(s.Spec.Mode?.Global),
    constraints: s.Spec.TaskTemplate.Placement?.Constraints ?? [],
    failureAction: u.FailureAction || 'pause',
    perTaskS: Math.ceil(((u.Delay ?? 0) + (u.Monitor ?? 5 * NS)) / NS),
    parallelism: u.Parallelism ?? 1,
    ...(stack ? { stack } : {}),
    ...(s.UpdateStatus?.State ? { updateState: s.UpdateStatus.State } : {}),
  };
}

/** A node's facts from its inspect JSON. */
export function toSwarmNode(n: NodeJson): SwarmNode {
  return {
    id: n.ID,
    hostname: n.Description?.Hostname ?? '',
    addr: n.Status?.Addr ?? '',
    role: n.Spec.Role ?? 'worker',
    ready: n.Status?.State === 'ready',
    active: (n.Spec.Availability ?? 'active') === 'active',
    labels: n.Spec.Labels ?? {},
  };
}

/** The image ID a spec image pins, when it is one (`sha256:<64 hex>`); a tag or digest ref gives undefined. */
export function pinnedId(specImage: string): string | undefined {
  return /^sha256:[0-9a-f]{64}$/.test(specImage) ? specImage : undefined;
}

/** Does one placement constraint allow the node? A constraint releaseflow cannot read allows it (the image goes there too). */
function allows(c: string, n: SwarmNode): boolean {
  const m = /^\s*([\w.-]+)\s*(==|!=)\s*(.+?)\s*$/.exec(c);
  if (!m) return true;
  const [, key, op, want] = m as unknown as [string, string, string, string];
  let have: string | undefined;
  if (key === 'node.hostname') have = n.hostname;
  else if (key === 'node.role') have = n.role;
  else if (key === 'node.id') have = n.id;
  else if (key.startsWith('node.labels.')) have = n.labels[key.slice('node.labels.'.length)];
  else return true;
  return op === '==' ? have === want : have !== want;
}

/** The nodes that may run a service: ready, active, and allowed by every placement constraint. */
export function eligibleNodes(s: SwarmService, nodes: readonly SwarmNode[]): SwarmNode[] {
  return nodes.filter((n) => n.ready && n.active && s.constraints.every((c) => allows(c, n)));
}

/** The configured host a node is: same address as the node's, else the same name as its hostname. */
export function hostOfNode(n: SwarmNode, hosts: readonly { name: string; address: string }[]): string | undefined {
  return (hosts.find((h) => h.address === n.addr) ?? hosts.find((h) => h.name === n.hostname))?.name;
}

/** How long a service's update may take: each round of `parallelism` tasks, plus the health timeout. */
export function updateTimeoutS(s: SwarmService, tasks: number, healthTimeoutMs: number): number {
  // parallelism 0: every task at once
  const rounds = s.parallelism > 0 ? Math.ceil(Math.max(1, tasks) / s.parallelism) : 1;
  return Math.ceil(healthTimeoutMs / 1000) + rounds * (s.perTaskS + 15);
}
