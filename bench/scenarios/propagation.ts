/**
 * Scenario 10 (issue 16): continuous mode at full size. After an initial cycle of the directory (scope
 * "Sync only assigned users and groups"), nobody presses Start: changes of every kind are made in the
 * Graph emulator, spread over minutes, and each one's propagation is the time from the change to the
 * provisioning log entry of the Dialpad write it caused (written when Dialpad answered). Then a quiet
 * window measures what continuous mode costs when nothing changes.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { cpuSnapshot } from "../cpu";
import { percentile, runCycleToEnd } from "../measure";
import { memoryOf, spawnWorker, stopChild, type Child } from "../processes";
import type { ScenarioResult } from "../report";
import { DIALPAD_USER_ROLE_ID } from "../../sandbox/graph/directory";
import { SEED_GROUPS } from "../../sandbox/graph/seed";
import { round, seconds, UNLIMITED_REQUESTS_PER_SECOND, type BenchContext } from "./context";

const LATENCY_MS = 5;

/** What one kind of change does in the directory, and the log actions that show it reached Dialpad. */
interface ChangeKind {
  name: string;
  deprovisioning: boolean;
  actions: string[];
}

const KINDS = {
  attribute: { name: "attribute edit", deprovisioning: false, actions: ["Update"] },
  disable: { name: "disable (accountEnabled=false)", deprovisioning: true, actions: ["Disable", "Update"] },
  softDelete: { name: "soft delete", deprovisioning: true, actions: ["Disable", "Delete"] },
  hardDelete: { name: "hard delete", deprovisioning: true, actions: ["Delete", "Disable"] },
  unassign: { name: "user unassigned", deprovisioning: true, actions: ["Disable", "Delete"] },
  assign: { name: "user assigned", deprovisioning: false, actions: ["Create"] },
  memberAdded: { name: "added to an assigned group", deprovisioning: false, actions: ["Create"] },
  memberRemoved: {
    name: "removed from an assigned group",
    deprovisioning: true,
    actions: ["Disable", "Delete"],
  },
  groupAssigned: { name: "group assigned (its members)", deprovisioning: false, actions: ["Create"] },
  groupUnassigned: {
    name: "group unassigned (its members)",
    deprovisioning: true,
    actions: ["Disable", "Delete"],
  },
} satisfies Record<string, ChangeKind>;
type KindKey = keyof typeof KINDS;

interface MadeChange {
  kind: KindKey;
  /** The users whose Dialpad account the change must reach. */
  sourceIds: string[];
  at: number;
}

export async function runPropagationScenario(context: BenchContext): Promise<ScenarioResult> {
  const { infra, params, log } = context;
  const { graph, dialpad } = infra.sandbox;
  const directory = graph.directory;
  log(`seeding the directory with ${params.users} users and ${params.groups} groups`);
  infra.seedGraph(params.users, params.groups);
  dialpad.company.reset();
  dialpad.configure({ rateLimit: null, latencyMs: LATENCY_MS, errorRate: 0 });
  graph.configure({ latencyMs: 0 });
  const database = await infra.createDatabase("propagation");
  const connectionId = await infra.createConnection(database, {
    scope: "AssignedOnly",
    scheduleMode: "continuous",
  });
  const workers: Child[] = Array.from({ length: params.workers }, (_, index) =>
    spawnWorker(`propagation-worker-${index + 1}`, {
      databaseUrl: database.url,
      env: infra.childEnv,
      requestsPerSecond: UNLIMITED_REQUESTS_PER_SECOND,
    }),
  );
  try {
    await Promise.all(workers.map((worker) => worker.ready));
    log("initial cycle (assigned users and groups)");
    const initial = await runCycleToEnd(database.db, connectionId, { timeoutMs: params.cycleTimeoutMs });
    log(`initial cycle ${initial.cycle.status} in ${seconds(initial.wallMs)}; continuous polling from here`);

    // ── The changes ────────────────────────────────────────────────────────────────────────────
    const pools = await changePools(context, database.db, connectionId);
    const plan = planChanges(params.propagationChanges);
    // "Group unassigned" needs groups whose members are in Dialpad already: made and provisioned first.
    for (let index = plan.filter((kind) => kind === "groupUnassigned").length; index > 0; index -= 1) {
      const members = pools.unassigned.splice(0, 2);
      const group = directory.addGroup({
        displayName: `Unassign later ${index}`,
        securityEnabled: true,
        mailEnabled: false,
      });
      for (const id of members) directory.addMember(group.id, id);
      directory.assign(group.id, DIALPAD_USER_ROLE_ID);
      pools.assignedGroups.push({ id: group.id, members });
    }
    const preparedIds = pools.assignedGroups.flatMap((group) => group.members);
    await waitUntil(
      async () =>
        (await database.db.objectLink.count({
          where: { connectionId, objectType: "User", sourceId: { in: preparedIds }, active: true },
        })) === preparedIds.length,
      120_000,
      "the prepared groups' members to reach Dialpad",
    );
    const spacingMs = params.propagationSpreadMs / plan.length;
    const made: MadeChange[] = [];
    for (const kind of plan) {
      const change = makeChange(kind, pools, directory);
      if (change) made.push(change);
      await sleep(spacingMs);
    }
    log(
      `made ${made.length} changes over ${seconds(params.propagationSpreadMs)}; waiting for them to reach Dialpad`,
    );
    const latencies = await waitForPropagation(database.db, connectionId, made, 180_000);

    // ── Idle ───────────────────────────────────────────────────────────────────────────────────
    await sleep(20_000);
    log(`idle window of ${seconds(params.propagationIdleMs)}`);
    const idle = await measureIdle(context, database.db, connectionId, workers, params.propagationIdleMs);

    const byKind = (Object.keys(KINDS) as KindKey[]).map((kind) => {
      const values = latencies.filter((entry) => entry.kind === kind).map((entry) => entry.ms);
      const missing = made.filter((change) => change.kind === kind).length - values.length;
      return { kind, values, missing };
    });
    const p95 = (values: number[]) => (values.length ? percentile(values, 95) : NaN);
    const worst = Math.max(...byKind.map((entry) => p95(entry.values)));
    const deprovisioning = latencies.filter((entry) => KINDS[entry.kind].deprovisioning).map((e) => e.ms);
    const missing = byKind.reduce((sum, entry) => sum + entry.missing, 0);
    const met =
      missing === 0 &&
      worst < 60_000 &&
      p95(deprovisioning) < 30_000 &&
      idle.dialpadRequests === 0 &&
      idle.cpuPercent < 5;
    return {
      id: 10,
      title: `Change propagation at ${params.users.toLocaleString("en")} users, continuous mode`,
      figure: `p95 ${seconds(worst)} (worst kind), deprovisioning p95 ${seconds(p95(deprovisioning))}; idle: ${round(idle.graphPerMinute, 1)} Graph requests/min, ${idle.dialpadRequests} Dialpad requests, worker CPU ${round(idle.cpuPercent, 2)} % of a core`,
      goal: "p95 < 60 s every kind, deprovisioning p95 < 30 s; idle: 0 Dialpad requests, CPU < 5 %",
      met,
      details: [
        `${made.length} changes of ${byKind.length} kinds made in the Graph emulator over ${seconds(params.propagationSpreadMs)} after an initial cycle (${initial.cycle.status}, ${seconds(initial.wallMs)}); each measured from the change to the provisioning log entry of its Dialpad write.`,
        ...byKind.map(
          ({ kind, values, missing: lost }) =>
            `${KINDS[kind].name}: ${values.length} changes, p50 ${seconds(values.length ? percentile(values, 50) : NaN)}, p95 ${seconds(p95(values))}${lost ? `; ${lost} never reached Dialpad` : ""}.`,
        ),
        `Cycles the changes queued: ${latencies.length ? new Set(latencies.map((entry) => entry.cycleId)).size : 0}.`,
        `Idle ${seconds(params.propagationIdleMs)}: ${idle.polls} polls, ${idle.graphRequests} Graph requests (${round(idle.graphPerMinute, 1)} per minute), ${idle.dialpadRequests} Dialpad requests, ${idle.cycles} cycles; worker CPU ${round(idle.cpuSeconds, 2)} s (${round(idle.cpuPercent, 2)} % of one core); worker peak RSS ${workers.map((w) => `${round(memoryOf(w.process.pid)?.peakMiB ?? NaN)} MiB`).join(", ")}.`,
        `${params.workers} worker processes, polls at the product's pacing (2 s after a change, up to 15 s idle).`,
      ],
    };
  } finally {
    await Promise.all(workers.map((worker) => stopChild(worker)));
    await infra.dropDatabase(database);
  }
}

interface Pools {
  /** Linked users assigned directly, each used once. */
  direct: string[];
  /** Linked users in scope only through "Dialpad Users". */
  viaGroup: string[];
  /** Users nothing assigns. */
  unassigned: string[];
  /** Small groups assigned (and provisioned) before the measured changes, for "group unassigned". */
  assignedGroups: { id: string; members: string[] }[];
}

async function changePools(context: BenchContext, db: Db, connectionId: string): Promise<Pools> {
  const directory = context.infra.sandbox.graph.directory;
  const linked = new Set(
    (
      await db.objectLink.findMany({
        where: { connectionId, objectType: "User", active: true },
        select: { sourceId: true },
      })
    ).map((link) => link.sourceId),
  );
  const assigned = (id: string) => directory.assignmentsOf(id).length > 0;
  const direct: string[] = [];
  const viaGroup: string[] = [];
  const unassigned: string[] = [];
  for (const user of directory.listUsers()) {
    if (!user.accountEnabled) continue;
    const groups = directory.memberOf(user.id);
    if (linked.has(user.id) && assigned(user.id) && !groups.some(assigned)) direct.push(user.id);
    else if (
      linked.has(user.id) &&
      !assigned(user.id) &&
      groups.length > 0 &&
      groups.every((g) => g === SEED_GROUPS.dialpadUsers.id || !assigned(g))
    )
      viaGroup.push(user.id);
    else if (!linked.has(user.id) && !assigned(user.id) && !groups.some(assigned)) unassigned.push(user.id);
  }
  return { direct, viaGroup, unassigned, assignedGroups: [] };
}

/** `count` changes, the kinds taking turns so each gets about the same number, deprovisioning among them. */
function planChanges(count: number): KindKey[] {
  const kinds = Object.keys(KINDS) as KindKey[];
  return Array.from({ length: count }, (_, index) => kinds[index % kinds.length]!);
}

function makeChange(
  kind: KindKey,
  pools: Pools,
  directory: BenchContext["infra"]["sandbox"]["graph"]["directory"],
): MadeChange | null {
  const take = (pool: string[]) => pool.shift();
  const at = Date.now();
  switch (kind) {
    case "attribute": {
      const id = take(pools.direct);
      if (!id) return null;
      directory.updateUser(id, { jobTitle: `Propagation ${at}` });
      return { kind, sourceIds: [id], at };
    }
    case "disable": {
      const id = take(pools.direct);
      if (!id) return null;
      directory.updateUser(id, { accountEnabled: false });
      return { kind, sourceIds: [id], at };
    }
    case "softDelete":
    case "hardDelete":
    case "unassign": {
      const id = take(pools.direct);
      if (!id) return null;
      if (kind === "softDelete") directory.softDeleteUser(id);
      else if (kind === "hardDelete") directory.hardDeleteUser(id);
      else directory.unassign(id);
      return { kind, sourceIds: [id], at };
    }
    case "assign": {
      const id = take(pools.unassigned);
      if (!id) return null;
      directory.assign(id, DIALPAD_USER_ROLE_ID);
      return { kind, sourceIds: [id], at };
    }
    case "memberAdded": {
      const id = take(pools.unassigned);
      if (!id) return null;
      directory.addMember(SEED_GROUPS.dialpadUsers.id, id);
      return { kind, sourceIds: [id], at };
    }
    case "memberRemoved": {
      const id = take(pools.viaGroup);
      if (!id) return null;
      directory.removeMember(SEED_GROUPS.dialpadUsers.id, id);
      return { kind, sourceIds: [id], at };
    }
    case "groupAssigned": {
      // A small group of its own: two users nothing assigns, assigned through the group.
      const members = [take(pools.unassigned), take(pools.unassigned)].filter((id): id is string => !!id);
      if (members.length === 0) return null;
      const group = directory.addGroup({
        displayName: `Propagation ${at}`,
        securityEnabled: true,
        mailEnabled: false,
      });
      for (const id of members) directory.addMember(group.id, id);
      directory.assign(group.id, DIALPAD_USER_ROLE_ID);
      return { kind, sourceIds: members, at: Date.now() };
    }
    case "groupUnassigned": {
      const group = pools.assignedGroups.shift();
      if (!group) return null;
      directory.unassign(group.id);
      return { kind, sourceIds: group.members, at };
    }
  }
}

async function waitUntil(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

type Db = Awaited<ReturnType<BenchContext["infra"]["createDatabase"]>>["db"];

/**
 * Each change's propagation: from the change to the first log entry, after it, of a Dialpad write of the
 * expected kind for each user it concerns (the slowest of them, for a group's members).
 */
async function waitForPropagation(
  db: Db,
  connectionId: string,
  made: MadeChange[],
  timeoutMs: number,
): Promise<{ kind: KindKey; ms: number; cycleId: string | null }[]> {
  const deadline = Date.now() + timeoutMs;
  const done = new Map<MadeChange, { ms: number; cycleId: string | null }>();
  while (done.size < made.length && Date.now() < deadline) {
    for (const change of made) {
      if (done.has(change)) continue;
      const entries = await db.provisioningLog.findMany({
        where: {
          connectionId,
          sourceId: { in: change.sourceIds },
          action: { in: KINDS[change.kind].actions },
          status: { in: ["Success", "Warning"] },
          activityDateTime: { gte: new Date(change.at) },
        },
        select: { sourceId: true, activityDateTime: true, cycleId: true },
        orderBy: { activityDateTime: "asc" },
      });
      const first = new Map<string, (typeof entries)[number]>();
      for (const entry of entries) if (!first.has(entry.sourceId!)) first.set(entry.sourceId!, entry);
      if (first.size < change.sourceIds.length) continue;
      const last = Math.max(...[...first.values()].map((entry) => entry.activityDateTime.getTime()));
      done.set(change, { ms: last - change.at, cycleId: [...first.values()][0]!.cycleId });
    }
    await sleep(500);
  }
  return made.flatMap((change) => {
    const result = done.get(change);
    return result ? [{ kind: change.kind, ...result }] : [];
  });
}

async function measureIdle(
  context: BenchContext,
  db: Db,
  connectionId: string,
  workers: Child[],
  windowMs: number,
) {
  const { infra } = context;
  const connection = () => db.connection.findUniqueOrThrow({ where: { id: connectionId } });
  const cpu = () =>
    cpuSnapshot({ workerPids: workers.map((w) => w.process.pid), pgDataDir: infra.pgDataDir });
  const before = await connection();
  const cyclesBefore = await db.cycle.count({ where: { connectionId } });
  const dialpadBefore = infra.sandbox.dialpad.requests.length;
  const cpuBefore = cpu();
  const startedAt = Date.now();
  await sleep(windowMs);
  const elapsedMs = Date.now() - startedAt;
  const after = await connection();
  const cpuSeconds = cpu().workers - cpuBefore.workers;
  const graphRequests = after.pollGraphRequests - before.pollGraphRequests;
  return {
    polls: after.pollCount - before.pollCount,
    graphRequests,
    graphPerMinute: graphRequests / (elapsedMs / 60_000),
    dialpadRequests: infra.sandbox.dialpad.requests.length - dialpadBefore,
    cycles: (await db.cycle.count({ where: { connectionId } })) - cyclesBefore,
    cpuSeconds,
    // Percent of one core, over every worker process together.
    cpuPercent: (cpuSeconds / (elapsedMs / 1000)) * 100,
  };
}
