import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SecretBox } from "@/lib/crypto/secrets";
import { ENTERPRISE_USER_SCHEMA } from "@/lib/mapping";
import { getProvisioningStatus } from "@/lib/server/provisioning-status";
import { runProvisioningCycle } from "@/lib/server/provisioning-cycle";
import { loadMappingConfig } from "@/lib/server/mappings";
import { runOnDemand } from "@/lib/server/on-demand";
import { type RunningSandbox } from "@/sandbox/main";
import { SEED_USERS } from "@/sandbox/graph/seed";
import type { TestDatabase } from "./database";
import { startEngineHarness } from "./engine-harness";

/**
 * Against a Dialpad that refuses `officeName` like a strict SCIM server (400 invalidPath for the whole
 * request): a user disabled in Entra is still disabled, the other changes land, the refusal is on the log
 * entry and the connection, and later changes leave the attribute out instead of failing again.
 */
let sandbox: RunningSandbox;
let t: TestDatabase;
let connectionId: string;
const secretKey = crypto.randomBytes(32);
const box = new SecretBox(secretKey);
const OFFICE = `${ENTERPRISE_USER_SCHEMA}:officeName`;

beforeAll(async () => {
  ({ sandbox, t, connectionId } = await startEngineHarness({ name: "refused-attributes", secretKey }));
});

afterAll(async () => {
  await sandbox?.close();
  await t?.drop();
});

const runCycle = () =>
  runProvisioningCycle(
    t.db,
    box,
    { connectionId, jobId: null, trigger: "start", dryRun: false },
    { mailer: null, requestsPerSecond: 1_000 },
  );

const scimUser = (upn: string) =>
  sandbox.dialpad.company.toScimUser(sandbox.dialpad.company.findUserByUserName(upn)!);
const officeOf = (upn: string) =>
  (scimUser(upn)[ENTERPRISE_USER_SCHEMA] as Record<string, unknown> | undefined)?.officeName;
const mentionsOffice = (body: unknown) =>
  JSON.stringify(body ?? "")
    .toLowerCase()
    .includes("officename");

describe("an attribute Dialpad refuses", () => {
  test("does not block a disable or the other changes, and is not sent again", async () => {
    const first = await runCycle();
    expect(first).toMatchObject({ status: "succeeded" });
    const leaver = SEED_USERS.zoe;
    const stayer = SEED_USERS.jose;
    const officeBefore = officeOf(stayer.upn);

    sandbox.dialpad.configure({ refuseAttributes: [OFFICE] });
    const directory = sandbox.graph.directory;
    directory.updateUser(leaver.id, {
      accountEnabled: false,
      jobTitle: "Leaving",
      officeLocation: "Office Nowhere",
    });
    directory.updateUser(stayer.id, { jobTitle: "Staying", officeLocation: "Office Elsewhere" });

    const from = sandbox.dialpad.requests.length;
    const second = await runCycle();
    expect(second.status).toBe("succeeded");
    expect(second.counts?.failed).toBe(0);
    expect(scimUser(leaver.upn).active).toBe(false);
    expect(scimUser(leaver.upn).title).toBe("Leaving");
    expect(scimUser(stayer.upn).title).toBe("Staying");
    expect(officeOf(stayer.upn)).toBe(officeBefore);
    const refusedWrites = sandbox.dialpad.requests
      .slice(from)
      .filter((request) => request.method === "PATCH" && request.status === 400);
    expect(refusedWrites.length).toBeGreaterThanOrEqual(1);

    const entries = await t.db.provisioningLog.findMany({
      where: { cycleId: second.cycleId!, sourceId: { in: [leaver.id, stayer.id] } },
    });
    expect(entries).toHaveLength(2);
    for (const entry of entries) {
      expect(entry).toMatchObject({ status: "Warning", errorCode: "AttributeRefused" });
      expect(entry.errorReason).toContain("officeName");
      expect(entry.recommendedAction).toContain("Mappings");
    }
    expect(entries.find((entry) => entry.sourceId === leaver.id)?.action).toBe("Disable");

    const status = await getProvisioningStatus(t.db, connectionId);
    expect(status.refusedAttributes).toHaveLength(1);
    expect(status.refusedAttributes[0]).toMatchObject({
      attribute: OFFICE,
      scimType: "invalidPath",
      affectedObjects: 2,
      summary: `Dialpad refuses ${OFFICE}: 2 users affected`,
    });

    // The next change of the same user goes without officeName, at the first try.
    directory.updateUser(stayer.id, { jobTitle: "Staying on", officeLocation: "Office Three" });
    const before = sandbox.dialpad.requests.length;
    const third = await runCycle();
    expect(third.status).toBe("succeeded");
    const writes = sandbox.dialpad.requests.slice(before).filter((request) => request.method !== "GET");
    expect(writes.map((request) => `${request.method} ${request.status}`)).toEqual(["PATCH 200"]);
    expect(writes.some((request) => mentionsOffice(request.body))).toBe(false);
    expect(scimUser(stayer.upn).title).toBe("Staying on");
    const [entry] = await t.db.provisioningLog.findMany({
      where: { cycleId: third.cycleId!, sourceId: stayer.id },
    });
    expect(entry).toMatchObject({ status: "Success", action: "Update" });

    // Provision on demand decides and sends the same way.
    directory.updateUser(stayer.id, { jobTitle: "On demand", officeLocation: "Office Four" });
    const onDemandFrom = sandbox.dialpad.requests.length;
    const result = await runOnDemand(t.db, box, {
      connectionId,
      subject: { objectId: stayer.id, objectTypeName: "User" },
      initiatedBy: "admin@contoso.example",
      jobId: null,
    });
    expect(result.statusInfo.status).toBe("Success");
    expect(sandbox.dialpad.requests.slice(onDemandFrom).some((request) => mentionsOffice(request.body))).toBe(
      false,
    );
    expect(scimUser(stayer.upn).title).toBe("On demand");
  });

  test("a changed mapping of the attribute is sent again", async () => {
    sandbox.dialpad.configure({ refuseAttributes: [] });
    const connection = await t.db.connection.findUniqueOrThrow({ where: { id: connectionId } });
    const mappings = structuredClone(loadMappingConfig(connection.mappings));
    const office = mappings.users.attributeMappings.find((mapping) => mapping.target === OFFICE)!;
    office.source = "department";
    await t.db.connection.update({ where: { id: connectionId }, data: { mappings } });
    expect((await getProvisioningStatus(t.db, connectionId)).refusedAttributes).toEqual([]);

    const stayer = SEED_USERS.jose;
    sandbox.graph.directory.updateUser(stayer.id, { department: "Refused No More", jobTitle: "Again" });
    await runCycle();
    expect(officeOf(stayer.upn)).toBe("Refused No More");
  });
});
