import { fork, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, inject, test } from "vitest";
import { SEED_USERS } from "./graph/seed";
import { startSandbox, type RunningSandbox, type SandboxRuntime } from "./main";

/**
 * The sandbox as `npm start` runs it, restarted on the same data directory: the emulated Dialpad company
 * must come back as the console left it, since the console's links outlive a restart too.
 */
const running: RunningSandbox[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((sandbox) => sandbox.close()));
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDataDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-persist-"));
  dirs.push(dir);
  return dir;
}

async function start(dataDir: string): Promise<RunningSandbox> {
  const sandbox = await startSandbox({
    dataDir,
    portBase: 0,
    consoleOrigin: "http://localhost:3000",
    tlsDir: inject("sandboxTlsDir"),
    stateDir: path.join(dataDir, "sandbox-state"),
  });
  running.push(sandbox);
  return sandbox;
}

async function stop(sandbox: RunningSandbox): Promise<void> {
  running.splice(running.indexOf(sandbox), 1);
  await sandbox.close();
}

async function scim(sandbox: RunningSandbox, method: string, route: string, body?: unknown) {
  const response = await fetch(`${sandbox.runtime.dialpad.tenantUrl}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${sandbox.runtime.dialpad.apiKey}`,
      ...(body === undefined ? {} : { "content-type": "application/scim+json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const userBody = (userName: string) => ({
  schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
  userName,
  displayName: `Persisted ${userName}`,
  emails: [{ value: userName, type: "work", primary: true }],
});

async function hubPage(sandbox: RunningSandbox): Promise<string> {
  return (await fetch(sandbox.runtime.hubUrl)).text();
}

async function resetFromHub(sandbox: RunningSandbox, fields: Record<string, string>): Promise<Response> {
  return fetch(`${sandbox.runtime.hubUrl}/reset`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
    redirect: "manual",
  });
}

function resetToken(page: string): string {
  const match = /name="token" value="([^"]+)"/.exec(page);
  if (!match?.[1]) throw new Error("the hub page has no reset form");
  return match[1];
}

/** The sandbox as the launcher runs it: its own process, told its addresses over IPC. */
async function startProcess(dataDir: string): Promise<{ child: ChildProcess; runtime: SandboxRuntime }> {
  const child = fork("sandbox/main.ts", [], {
    env: { ...process.env, DATA_DIR: dataDir, SANDBOX_PORT_BASE: "0", PUBLIC_URL: "http://localhost:3000" },
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the sandbox exited during start-up (code ${code})`)));
    child.on("message", (message: { type?: string; runtime?: SandboxRuntime }) => {
      if (message.type === "sandbox-ready" && message.runtime) resolve({ child, runtime: message.runtime });
    });
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  await exited;
}

describe("sandbox state across restarts", () => {
  test("the sandbox process stopped right after a change (inside the save delay) has it on its next start", async () => {
    const dataDir = tempDataDir();
    // The same certificate as the other tests, so this process's fetch trusts the child's HTTPS.
    fs.cpSync(inject("sandboxTlsDir"), path.join(dataDir, "sandbox-tls"), { recursive: true });
    const first = await startProcess(dataDir);
    const created = await scim(
      { runtime: first.runtime } as RunningSandbox,
      "POST",
      "/Users",
      userBody("kill@contoso.example"),
    );
    expect(created.status).toBe(201);
    await stopProcess(first.child);

    const second = await startProcess(dataDir);
    try {
      const found = await scim(
        { runtime: second.runtime } as RunningSandbox,
        "GET",
        `/Users/${String(created.body.id)}`,
      );
      expect(found).toMatchObject({ status: 200, body: { userName: "kill@contoso.example" } });
    } finally {
      await stopProcess(second.child);
    }
  }, 60_000);

  test("users and groups created over SCIM are there after a restart, with the same ids and numbers", async () => {
    const dataDir = tempDataDir();
    const first = await start(dataDir);
    const ada = await scim(first, "POST", "/Users", userBody("ada@contoso.example"));
    const grace = await scim(first, "POST", "/Users", userBody("grace@contoso.example"));
    expect(ada.status).toBe(201);
    const group = await scim(first, "POST", "/Groups", {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"],
      displayName: "Persisted Sales",
      members: [{ value: ada.body.id }, { value: grace.body.id }],
    });
    expect(group.status).toBe(201);
    expect(await scim(first, "DELETE", `/Users/${String(grace.body.id)}`)).toMatchObject({ status: 204 });
    await stop(first);

    const second = await start(dataDir);
    const found = await scim(
      second,
      "GET",
      `/Users?filter=${encodeURIComponent('userName eq "ada@contoso.example"')}`,
    );
    expect(found.body.totalResults).toBe(1);
    const [restored] = found.body.Resources as Record<string, unknown>[];
    expect(restored).toMatchObject({ id: ada.body.id, displayName: "Persisted ada@contoso.example" });
    expect(restored?.phoneNumbers).toEqual(ada.body.phoneNumbers);
    const restoredGroup = await scim(second, "GET", `/Groups/${String(group.body.id)}`);
    expect(restoredGroup.body.members).toEqual([expect.objectContaining({ value: ada.body.id })]);
    // A new user gets a fresh id, not one of the restored users'.
    const next = await scim(second, "POST", "/Users", userBody("alan@contoso.example"));
    expect(next.body.id).not.toBe(ada.body.id);
    expect(next.body.id).not.toBe(grace.body.id);
    expect(await hubPage(second)).toMatch(/<th scope="row">Dialpad \(emulated\)<\/th><td>2<\/td><td>1<\/td>/);
  });

  test("Reset sandbox on the hub empties Dialpad, restores the Entra seed, says what to do in the console, and sticks", async () => {
    const dataDir = tempDataDir();
    const first = await start(dataDir);
    await scim(first, "POST", "/Users", userBody(SEED_USERS.zoe.upn));
    first.graph.directory.updateUser(SEED_USERS.zoe.id, { displayName: "Changed by a test" });
    const page = await hubPage(first);
    // The summary is a table of who is assigned and who reached Dialpad, not raw JSON.
    expect(page).toContain('<table aria-label="Assigned to the Dialpad app">');
    expect(page).toContain(
      `<tr><td>User</td><td>Changed by a test</td><td>${SEED_USERS.zoe.upn}</td><td>User</td><td>yes</td></tr>`,
    );
    expect(page).toContain(
      `<tr><td>User</td><td>Ada Admin</td><td>${SEED_USERS.admin.upn}</td><td>Admin</td><td>no</td></tr>`,
    );

    const forged = await resetFromHub(first, { token: "guessed", confirm: "yes" });
    expect(forged.status).toBe(403);
    const unconfirmed = await resetFromHub(first, { token: resetToken(page) });
    expect(unconfirmed.status).toBe(400);
    expect(first.dialpad.company.users.size).toBe(1);

    const reset = await resetFromHub(first, { token: resetToken(page), confirm: "yes" });
    expect(reset.status).toBe(303);
    const after = await fetch(new URL(reset.headers.get("location") ?? "/", first.runtime.hubUrl)).then((r) =>
      r.text(),
    );
    expect(after).toContain("The sandbox was reset");
    expect(after).toContain('role="status"');
    expect(after).toContain("Forget the links and match every object again");
    expect(after).not.toContain("Changed by a test");
    expect((await scim(first, "GET", "/Users")).body.totalResults).toBe(0);
    expect(first.graph.directory.getUser(SEED_USERS.zoe.id)?.displayName).toBe("Zoë Ångström");
    await stop(first);

    const second = await start(dataDir);
    expect((await scim(second, "GET", "/Users")).body.totalResults).toBe(0);
  });

  test("a state file this version cannot read is set aside, not overwritten, and the company starts empty", async () => {
    const dataDir = tempDataDir();
    const stateDir = path.join(dataDir, "sandbox-state");
    fs.mkdirSync(stateDir, { recursive: true });
    fs.writeFileSync(path.join(stateDir, "dialpad.json"), JSON.stringify({ version: 99, state: {} }));
    const sandbox = await start(dataDir);
    expect(sandbox.dialpad.company.users.size).toBe(0);
    const asideFiles = fs.readdirSync(stateDir).filter((name) => name.startsWith("dialpad.json.unreadable-"));
    expect(asideFiles).toHaveLength(1);
    expect(fs.readFileSync(path.join(stateDir, asideFiles[0] ?? ""), "utf8")).toContain('"version":99');
  });
});
