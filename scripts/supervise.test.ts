import { type ChildProcess, spawn } from "node:child_process";
import { afterEach, describe, expect, test } from "vitest";
import { Supervisor, type Running, type SupervisorLog } from "./supervise";

/** Real OS processes under the launcher's supervisor, with a fast restart policy. */
const spawned: ChildProcess[] = [];

afterEach(() => {
  for (const child of spawned.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

function nodeProcess(code: string): Running {
  const child = spawn(process.execPath, ["-e", code], { stdio: "ignore" });
  spawned.push(child);
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once("exit", (exitCode, signal) => resolve({ code: exitCode, signal })),
  );
  return {
    pid: child.pid,
    exited,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

const longRunning = () => nodeProcess("setInterval(() => {}, 1000)");

function recorder() {
  const entries: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const log: SupervisorLog = (level, fields, message) => entries.push({ level, fields, message });
  return { entries, log };
}

async function until(predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("supervisor", () => {
  test("a killed process is started again after the pause, and both events are logged", async () => {
    const { entries, log } = recorder();
    const restarted: number[] = [];
    const supervisor = new Supervisor({
      log,
      onCrashLoop: () => undefined,
      onRestarted: (_name, running) => restarted.push(running.pid!),
      policy: { initialDelayMs: 300 },
    });
    const first = longRunning();
    supervisor.supervise("worker-1", first, async () => longRunning());

    const killedAt = Date.now();
    process.kill(first.pid!, "SIGKILL");
    await until(() => restarted.length === 1);
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(300);
    expect(isAlive(restarted[0])).toBe(true);
    expect(supervisor.pids()).toEqual([restarted[0]]);
    expect(entries.map((entry) => [entry.level, entry.message])).toEqual([
      ["warn", "worker-1 exited (SIGKILL); restarting in 0.3 s"],
      ["info", "worker-1 restarted"],
    ]);
    expect(entries[0]!.fields).toMatchObject({ child: "worker-1", signal: "SIGKILL", restartInMs: 300 });

    // The launcher's own stop is final: the process ends and nothing starts it again.
    await supervisor.stop("worker-1");
    expect(isAlive(restarted[0])).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(restarted).toHaveLength(1);
  });

  test("pauses double while a process keeps dying, and a crash loop is given up once", async () => {
    const { entries, log } = recorder();
    const crashLoops: { name: string; restarts: number }[] = [];
    const startedAt: number[] = [];
    const supervisor = new Supervisor({
      log,
      onCrashLoop: (name, restarts) => crashLoops.push({ name, restarts }),
      policy: { initialDelayMs: 50, maxDelayMs: 200, maxRestarts: 4, windowMs: 10_000 },
    });
    const crashing = () => {
      startedAt.push(Date.now());
      return nodeProcess("process.exit(3)");
    };
    supervisor.supervise("web", crashing(), async () => crashing());
    await until(() => crashLoops.length === 1);

    expect(crashLoops).toEqual([{ name: "web", restarts: 4 }]);
    expect(startedAt).toHaveLength(5);
    const pauses = entries.filter((entry) => entry.level === "warn").map((entry) => entry.fields.restartInMs);
    expect(pauses).toEqual([50, 100, 200, 200]);
    const gaps = startedAt.slice(1).map((at, index) => at - startedAt[index]!);
    gaps.forEach((gap, index) => expect(gap).toBeGreaterThanOrEqual(pauses[index] as number));
    const last = entries.at(-1)!;
    expect(last.level).toBe("error");
    expect(last.message).toContain("crash loop");
    expect(last.fields).toMatchObject({ child: "web", code: 3 });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(startedAt).toHaveLength(5);
  });

  test("a stop during the pause cancels the pending restart", async () => {
    const { log } = recorder();
    let restarts = 0;
    const supervisor = new Supervisor({
      log,
      onCrashLoop: () => undefined,
      policy: { initialDelayMs: 5_000 },
    });
    const first = longRunning();
    supervisor.supervise("sandbox", first, async () => {
      restarts += 1;
      return longRunning();
    });
    process.kill(first.pid!, "SIGKILL");
    await first.exited;
    const stoppedAt = Date.now();
    await supervisor.stop("sandbox");
    expect(Date.now() - stoppedAt).toBeLessThan(1_000);
    expect(restarts).toBe(0);
  });

  test("after endRestarts nothing that exits is started again, and stop still stops what runs", async () => {
    const { entries, log } = recorder();
    let restarts = 0;
    const supervisor = new Supervisor({ log, onCrashLoop: () => undefined, policy: { initialDelayMs: 50 } });
    const database = longRunning();
    const worker = longRunning();
    const restart = async () => {
      restarts += 1;
      return longRunning();
    };
    supervisor.supervise("postgres", database, restart);
    supervisor.supervise("worker-1", worker, restart);
    supervisor.endRestarts();
    // As with Ctrl-C in a terminal: PostgreSQL gets the signal too and exits on its own.
    process.kill(database.pid!, "SIGINT");
    await database.exited;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(restarts).toBe(0);
    expect(isAlive(worker.pid)).toBe(true);
    await supervisor.stop("worker-1");
    await supervisor.stop("postgres");
    expect(isAlive(worker.pid)).toBe(false);
    expect(entries).toEqual([]);
  });

  test("a start that fails is retried like an exit", async () => {
    const { entries, log } = recorder();
    let attempts = 0;
    const restarted: number[] = [];
    const supervisor = new Supervisor({
      log,
      onCrashLoop: () => undefined,
      onRestarted: (_name, running) => restarted.push(running.pid!),
      policy: { initialDelayMs: 50 },
    });
    const first = longRunning();
    supervisor.supervise("postgres", first, async () => {
      attempts += 1;
      if (attempts === 1) throw new Error("shared memory block still in use");
      return longRunning();
    });
    process.kill(first.pid!, "SIGKILL");
    await until(() => restarted.length === 1);
    expect(attempts).toBe(2);
    expect(entries.map((entry) => entry.message)).toEqual([
      "postgres exited (SIGKILL); restarting in 0.05 s",
      "postgres failed to start; restarting in 0.1 s",
      "postgres restarted",
    ]);
    expect(entries[1]!.fields).toMatchObject({ error: "shared memory block still in use" });
    await supervisor.stop("postgres");
  });
});
