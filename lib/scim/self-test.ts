/**
 * Target self-test: probes a SCIM endpoint for the behaviour the provisioning engine relies on
 * (discovery, eq filters on the matching attributes, PATCH casing and Booleans, pagination, error
 * bodies, 404/409, rate-limit signals) and reports, per check, what was seen and what the engine does
 * about it. With `createTemporaryUser` it creates exactly one user (plus any duplicate a non-compliant
 * target wrongly accepts) and always deletes what it created, even when checks fail.
 *
 * Every request goes through the ordinary SCIM client, so the self-test sees the target exactly as a
 * provisioning cycle does (same headers, filter encoding, redirect refusal, error classification) and
 * every text in the report is scrubbed of the token the same way.
 */
import { randomUUID } from "node:crypto";
import { createAdaptiveLimiter } from "./adaptive-limiter";
import { createScimClient, type ScimClient, type ScimExchange } from "./client";
import { describeScimError, ScimError } from "./errors";
import { eq, isValidAttributePath } from "./filter";
import type { RequestLimiter } from "./limiter";
import { redactUrl, scrubText } from "./redact";
import {
  SCIM_SCHEMAS,
  scimErrorBodySchema,
  type ScimListResponse,
  type ScimPatchOperation,
  type ScimResourceInput,
  type ScimResourceType,
  type ScimSchemaDefinition,
  type ScimUser,
} from "./schemas";
import { findUndeclaredAttributes } from "./schema-coverage";

export type SelfTestStatus = "pass" | "warn" | "fail" | "skipped";

export interface SelfTestCheck {
  id: string;
  title: string;
  status: SelfTestStatus;
  /** What was observed, including the request(s) that showed it. */
  detail: string;
  /** What the provisioning engine does about it. */
  engineAction: string;
  durationMs: number;
}

export interface SelfTestSummary {
  pass: number;
  warn: number;
  fail: number;
  skipped: number;
  total: number;
}

export interface ScimSelfTestReport {
  /** The tenant URL tested (credentials removed). */
  target: string;
  startedAt: string;
  durationMs: number;
  summary: SelfTestSummary;
  checks: SelfTestCheck[];
  /** The temporary user, when one was allowed; `deleted` false means it may still be in the target. */
  temporaryUser: { userName: string; id?: string; created: boolean; deleted: boolean } | null;
  /** Requests sent, including retries. */
  requestCount: number;
}

export interface ScimSelfTestOptions {
  baseUrl: string;
  token: string;
  /** Target attributes the user mapping matches on, in precedence order (e.g. userName, externalId). */
  userMatchingAttributes: readonly string[];
  /** Target attributes the group mapping matches on (e.g. displayName); empty when groups are not provisioned. */
  groupMatchingAttributes: readonly string[];
  /**
   * Every target attribute of the user (and, when groups are provisioned, group) mapping: each one the
   * target's /Schemas does not declare is warned about, since a strict target refuses writes carrying it.
   */
  userMappedAttributes?: readonly string[];
  groupMappedAttributes?: readonly string[];
  /** How the report names the target ("Dialpad"); default "The target". */
  targetName?: string;
  /** Consent to create (and delete) one temporary user; without it the write checks are skipped. */
  createTemporaryUser: boolean;
  /** Per request attempt, covering the response body. Default 10 s. */
  timeoutMs?: number;
  /** The whole run; checks not started by then are skipped (clean-up still runs). Default 90 s. */
  deadlineMs?: number;
  /** Pacing; the server passes the connection's shared budget so a running cycle is not crowded out. */
  limiter?: RequestLimiter;
  fetch?: typeof fetch;
  /** For tests: the id generator behind the random filter values and the temporary user's name. */
  randomId?: () => string;
}

/** Headers worth reporting; everything else (cookies included) is never kept. */
const RATE_LIMIT_HEADER = /^(x-ratelimit-|x-rate-limit-|ratelimit|retry-after$)/i;
const TEMPORARY_DOMAIN = "selftest.invalid";
const ERROR_URN = SCIM_SCHEMAS.error;
/** Network and credential failures after which no further check can tell anything. */
const BLOCKING_CODES = new Set([
  "Unauthorized",
  "InsufficientRights",
  "ConnectionFailed",
  "TlsFailure",
  "RedirectRefused",
  "Timeout",
]);

interface Observation extends ScimExchange {
  headers: Record<string, string>;
}

type Outcome<T> =
  { ok: true; value: T; exchange?: Observation } | { ok: false; error: ScimError; exchange?: Observation };

interface CheckResult {
  status: SelfTestStatus;
  detail: string;
  engineAction: string;
}

export async function runScimSelfTest(options: ScimSelfTestOptions): Promise<ScimSelfTestReport> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const randomId = options.randomId ?? randomUUID;
  const deadline = started + (options.deadlineMs ?? 90_000);
  const secrets = [options.token];
  const scrub = (text: string) => scrubText(text, secrets);
  const base = options.baseUrl.trim().replace(/\/+$/, "");

  const observations: Observation[] = [];
  let pendingHeaders: Record<string, string> = {};
  const underlyingFetch = options.fetch ?? globalThis.fetch;
  // The client hides response headers; this wrapper keeps only the rate-limit ones for the last response.
  const observingFetch: typeof fetch = async (input, init) => {
    pendingHeaders = {};
    const response = await underlyingFetch(input, init);
    const kept: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      if (RATE_LIMIT_HEADER.test(name) || name.toLowerCase() === "content-type")
        kept[name.toLowerCase()] = value;
    });
    pendingHeaders = kept;
    return response;
  };

  const client: ScimClient = createScimClient({
    baseUrl: options.baseUrl,
    token: options.token,
    fetch: observingFetch,
    timeoutMs: options.timeoutMs ?? 10_000,
    // A short leash: a throttled or flaky target is retried a little, as a cycle would, but the admin is
    // waiting for the report.
    maxRetries: 2,
    retryPolicy: { baseDelayMs: 250, maxDelayMs: 2_000, maxTotalWaitMs: 10_000 },
    limiter: options.limiter ?? createAdaptiveLimiter({ ratePerSecond: 20 }),
    userAgent: "dialpad-provisioning-self-test",
    onExchange: (exchange) => {
      observations.push({ ...exchange, headers: pendingHeaders });
      pendingHeaders = {};
    },
  });

  async function attempt<T>(promise: Promise<T>): Promise<Outcome<T>> {
    const before = observations.length;
    try {
      const value = await promise;
      return { ok: true, value, exchange: observations.length > before ? observations.at(-1) : undefined };
    } catch (error) {
      if (!(error instanceof ScimError)) throw error;
      return { ok: false, error, exchange: observations.length > before ? observations.at(-1) : undefined };
    }
  }

  const requestLine = requestLineFor(base, secrets);
  const failureText = (error: ScimError, exchange?: Observation) =>
    `${requestLine(exchange, error)}: ${error.code}, ${error.detail}`;

  const checks: SelfTestCheck[] = [];
  let blockedBy: string | undefined;

  async function check(id: string, title: string, run: () => Promise<CheckResult>, always = false) {
    const checkStarted = performance.now();
    let result: CheckResult;
    if (!always && blockedBy) {
      result = {
        status: "skipped",
        detail: `Not run: ${blockedBy}`,
        engineAction: "Run the self-test again once the connection works.",
      };
    } else if (!always && performance.now() > deadline) {
      result = {
        status: "skipped",
        detail: `Not run: the self-test reached its ${Math.round((options.deadlineMs ?? 90_000) / 1000)} s limit.`,
        engineAction: "The target answers slowly; run the self-test again, and watch cycle durations.",
      };
    } else {
      try {
        result = await run();
      } catch (error) {
        result = {
          status: "fail",
          detail: `The check could not complete: ${error instanceof Error ? error.message : String(error)}`,
          engineAction: "Report this; the self-test itself failed.",
        };
      }
    }
    checks.push({
      id,
      title,
      status: result.status,
      detail: scrub(result.detail),
      engineAction: scrub(result.engineAction),
      durationMs: Math.round(performance.now() - checkStarted),
    });
  }

  const blockIfFatal = (error: ScimError) => {
    if (BLOCKING_CODES.has(error.code))
      blockedBy = `an earlier request failed with ${error.code} (${error.detail}), so every further request would too.`;
  };

  // 1. Discovery.
  await check("service-provider-config", "ServiceProviderConfig", async () => {
    const outcome = await attempt(client.getServiceProviderConfig());
    const line = requestLine(outcome.exchange, outcome.ok ? undefined : outcome.error);
    if (!outcome.ok) {
      blockIfFatal(outcome.error);
      if (blockedBy) {
        return {
          status: "fail",
          detail: failureText(outcome.error, outcome.exchange),
          engineAction: `Every request of a cycle would fail the same way. ${describeScimError(outcome.error).recommendedAction}`,
        };
      }
      return {
        status: "warn",
        detail: `${failureText(outcome.error, outcome.exchange)}. RFC 7644 §4 expects this endpoint.`,
        engineAction:
          "The engine does not read ServiceProviderConfig: it always updates with PATCH and matches with eq filters, as Entra does. The checks below show whether those work.",
      };
    }
    const config = outcome.value;
    const patch = config.patch?.supported;
    const filter = config.filter?.supported;
    const maxResults = config.filter?.maxResults;
    const facts = [
      `patch.supported ${String(patch ?? "(absent)")}`,
      `filter.supported ${String(filter ?? "(absent)")}`,
      `filter.maxResults ${maxResults ?? "(absent)"}`,
      `bulk.supported ${String(config.bulk?.supported ?? "(absent)")}`,
      `etag.supported ${String(config.etag?.supported ?? "(absent)")}`,
    ];
    const doubts = [
      ...(patch === true ? [] : ["PATCH is not declared as supported"]),
      ...(filter === true ? [] : ["filtering is not declared as supported"]),
    ];
    return {
      status: doubts.length ? "warn" : "pass",
      detail: `${line}: ${facts.join(", ")}.${doubts.length ? ` ${doubts.join("; ")}.` : ""}`,
      engineAction: `The engine updates with PATCH and matches with eq filter queries (one or two results each, well under any maxResults), and uses neither bulk nor ETags.${
        doubts.length
          ? " It does not change its requests because of this declaration; the PATCH and filter checks below show what really works."
          : ""
      }`,
    };
  });

  let discovered: { schemas?: ScimSchemaDefinition[]; resourceTypes?: ScimResourceType[] } = {};
  await check("schemas", "Schemas and ResourceTypes", async () => {
    const schemas = await attempt(client.getSchemas());
    const resourceTypes = await attempt(client.getResourceTypes());
    discovered = {
      ...(schemas.ok ? { schemas: schemas.value.Resources } : {}),
      ...(resourceTypes.ok ? { resourceTypes: resourceTypes.value.Resources } : {}),
    };
    const lines: string[] = [];
    const doubts: string[] = [];
    let definitions: ScimSchemaDefinition[] = [];
    if (schemas.ok) {
      definitions = schemas.value.Resources;
      const ids = definitions.map((definition) => definition.id);
      lines.push(`${requestLine(schemas.exchange)}: ${ids.length} schema(s)`);
      if (!ids.includes(SCIM_SCHEMAS.user))
        doubts.push(`the core User schema (${SCIM_SCHEMAS.user}) is not listed`);
      if (options.groupMatchingAttributes.length && !ids.includes(SCIM_SCHEMAS.group))
        doubts.push(`the core Group schema (${SCIM_SCHEMAS.group}) is not listed`);
      const undeclared = [
        ...options.userMatchingAttributes.filter((path) => !declares(definitions, SCIM_SCHEMAS.user, path)),
        ...options.groupMatchingAttributes.filter((path) => !declares(definitions, SCIM_SCHEMAS.group, path)),
      ];
      if (undeclared.length) doubts.push(`matching attribute(s) not declared: ${undeclared.join(", ")}`);
    } else {
      lines.push(failureText(schemas.error, schemas.exchange));
      doubts.push("/Schemas is not served");
    }
    if (resourceTypes.ok) {
      const names = resourceTypes.value.Resources.map((type) => `${type.name} at ${type.endpoint}`);
      lines.push(`${requestLine(resourceTypes.exchange)}: ${names.join(", ") || "none"}`);
      if (!resourceTypes.value.Resources.some((type) => type.schema === SCIM_SCHEMAS.user))
        doubts.push("no resource type uses the core User schema");
    } else {
      lines.push(failureText(resourceTypes.error, resourceTypes.exchange));
      doubts.push("/ResourceTypes is not served");
    }
    return {
      status: doubts.length ? "warn" : "pass",
      detail: `${lines.join("; ")}.${doubts.length ? ` ${capitalise(doubts.join("; "))}.` : ""}`,
      engineAction:
        "The engine sends the attributes your mappings name and does not read /Schemas; an attribute the target does not know fails that object with SchemaAttributeNotFound when it is sent.",
    };
  });

  await check("mapped-attributes", "Mapped attributes declared by the target", async () =>
    judgeMappedAttributes(options, discovered),
  );

  // 2. Match queries, exactly as the engine (and Entra's Test Connection) sends them.
  for (const [collection, attributes] of [
    ["Users", options.userMatchingAttributes],
    ["Groups", options.groupMatchingAttributes],
  ] as const) {
    const noun = collection === "Users" ? "user" : "group";
    for (const attribute of new Set(attributes)) {
      await check(`filter-${noun}s:${attribute}`, `Filter ${noun}s by ${attribute}`, async () => {
        if (!isValidAttributePath(attribute)) {
          return {
            status: "fail",
            detail: `"${attribute}" is not an attribute path a SCIM eq filter can name (value filters such as emails[type eq "work"].value are not allowed in a match query).`,
            engineAction: `Matching ${noun}s on it fails for every object. Choose a simple attribute such as ${collection === "Users" ? "userName or externalId" : "displayName"}.`,
          };
        }
        const value = randomId();
        const filter = eq(attribute, value);
        const outcome = await attempt<{ id: string }[]>(
          collection === "Users"
            ? client.findUsers(filter)
            : client.findGroups(filter, { excludeMembers: true }),
        );
        return judgeEmptyMatch(outcome, noun, attribute, blockIfFatal, requestLine, failureText);
      });
    }
  }

  const escapingAttribute = options.userMatchingAttributes.find(isValidAttributePath) ?? "userName";
  await check("filter-escaping", "Filter values with quotes and backslashes", async () => {
    const value = `O'Brien "Zoë" \\ ${randomId()}`;
    const outcome = await attempt(client.findUsers(eq(escapingAttribute, value)));
    const line = requestLine(outcome.exchange, outcome.ok ? undefined : outcome.error);
    if (!outcome.ok) {
      blockIfFatal(outcome.error);
      return {
        status: outcome.error.status === 400 ? "warn" : "fail",
        detail: `${failureText(outcome.error, outcome.exchange)}. The value was sent as the JSON string ${JSON.stringify(value)}.`,
        engineAction:
          'The engine writes filter values as JSON strings (RFC 7644 §3.4.2.2: \\" and \\\\ escaped, UTF-8). Objects whose matching value contains a quote or backslash would fail to match here and be retried each cycle; other objects are unaffected.',
      };
    }
    const found = outcome.value.length;
    return {
      status: found === 0 ? "pass" : "fail",
      detail:
        found === 0
          ? `${line}: no results, so the escaped quotes, backslash and non-ASCII letter were parsed as one value.`
          : `${line}: ${found} user(s) returned for a value no one has, so the escaped value was misread.`,
      engineAction:
        found === 0
          ? "The engine writes filter values as JSON strings (quotes and backslashes escaped, UTF-8 percent-encoded); this target parses them."
          : "The engine would link objects with such values to the wrong account; avoid matching attributes whose values contain quotes or backslashes until the target is fixed.",
    };
  });

  await check("error-404", "404 for a user that does not exist", async () => {
    const outcome = await attempt(client.getUser(randomId()));
    if (outcome.ok) {
      return {
        status: "fail",
        detail: `${requestLine(outcome.exchange)}: a user was returned for an id that was made up.`,
        engineAction:
          "The engine could not tell that a linked user was deleted in the target; it would keep updating whatever this id returns.",
      };
    }
    const { error, exchange } = outcome;
    blockIfFatal(error);
    if (error.status !== 404) {
      return {
        status: "fail",
        detail: `${failureText(error, exchange)}. A missing resource must answer 404 (RFC 7644 §3.4.1).`,
        engineAction: `The engine treats a 404 on a linked user as "deleted in the target" (it matches again and re-creates). With ${error.status ? `HTTP ${error.status}` : "this answer"} instead, every update of such a user fails with ${error.code} and is retried each cycle.`,
      };
    }
    const shape = judgeErrorBody(error, 404);
    return {
      status: shape.problems.length ? "fail" : shape.notes.length ? "warn" : "pass",
      detail: `${requestLine(exchange, error)}: ${shape.summary}`,
      engineAction: shape.problems.length
        ? "The engine still goes by the 404 status (it drops the link, matches again and re-creates the user), but the provisioning log can show only the raw body instead of the target's scimType and detail. Entra's SCIM validator reports this as non-compliant."
        : "A 404 on a linked user means it was deleted in the target: the engine drops the link, matches again by the matching attributes and creates the user when no one matches (Entra's InvalidAnchor handling). The error's detail goes into the provisioning log.",
    };
  });

  // 3. Write checks on one temporary user.
  const temporary = {
    userName: `selftest-${randomId()}@${TEMPORARY_DOMAIN}`,
    externalId: `selftest-${randomId()}`,
  };
  let created: ScimUser | undefined;
  let creationAttempted = false;
  const extraIds: string[] = [];
  let deleted = false;
  let leftoverFound = false;
  const needsUser = (title: string) => ({
    status: "skipped" as const,
    detail: options.createTemporaryUser
      ? `Not run: ${title} needs the temporary user, which could not be created.`
      : "Not run: creating a temporary user was not allowed.",
    engineAction: "Run the self-test with the temporary user allowed to check this.",
  });

  if (options.createTemporaryUser) {
    try {
      await check("create-user", "Create a temporary user", async () => {
        creationAttempted = true;
        const outcome = await attempt(client.createUser(temporaryUserBody(temporary)));
        if (!outcome.ok) {
          blockIfFatal(outcome.error);
          return {
            status: "fail",
            detail: `${failureText(outcome.error, outcome.exchange)} (userName ${temporary.userName}).`,
            engineAction: `Creating users would fail the same way. ${describeScimError(outcome.error).recommendedAction}`,
          };
        }
        created = outcome.value;
        const status = outcome.exchange?.status;
        return {
          status: status === 201 ? "pass" : "warn",
          detail: `${requestLine(outcome.exchange)}: created ${temporary.userName} with id ${created.id}.${status === 201 ? "" : " RFC 7644 §3.3 says 201 Created."}`,
          engineAction:
            "The engine creates users with POST /Users and links each one by the id the target returns; any 2xx with the new resource is accepted.",
        };
      });

      await check("filter-finds-user", "Filter finds an existing user", async () => {
        const user = created;
        if (!user) return needsUser("this check");
        const known: Record<string, string> = {
          username: temporary.userName,
          externalid: temporary.externalId,
          "emails.value": temporary.userName,
        };
        const probes = [...new Set(["userName", ...options.userMatchingAttributes])].filter(
          (attribute) => isValidAttributePath(attribute) && known[attribute.toLowerCase()] !== undefined,
        );
        const lines: string[] = [];
        let missed = false;
        let wrong = false;
        let refused: ScimError | undefined;
        for (const attribute of probes) {
          const outcome = await attempt(client.findUsers(eq(attribute, known[attribute.toLowerCase()]!)));
          if (!outcome.ok) {
            refused ??= outcome.error;
            lines.push(failureText(outcome.error, outcome.exchange));
            continue;
          }
          const ids = outcome.value.map((resource) => resource.id);
          const right = ids.length === 1 && ids[0] === user.id;
          missed ||= ids.length === 0;
          wrong ||= ids.length > 0 && !right;
          lines.push(
            `${requestLine(outcome.exchange)}: ${ids.length} result(s)${right ? ", the temporary user" : ids.length ? ` (ids ${ids.join(", ")}, expected only ${user.id})` : ", but the user exists"}`,
          );
        }
        const unprobed = options.userMatchingAttributes.filter((attribute) => !probes.includes(attribute));
        const consequences = [
          ...(missed
            ? [
                "it would not find users that already exist, so it would try to create them again every cycle and fail with a conflict (or create duplicates)",
              ]
            : []),
          ...(wrong
            ? [
                "it would fail with DuplicateTargetEntries when several users come back, or link the wrong account when one other user does",
              ]
            : []),
          ...(refused ? [`its match queries would fail with ${refused.code}`] : []),
        ];
        return {
          status: consequences.length ? "fail" : "pass",
          detail: `${lines.join("; ")}.${unprobed.length ? ` Not probed (no known value on the temporary user): ${unprobed.join(", ")}.` : ""}`,
          engineAction: consequences.length
            ? `The engine matches existing users with these queries; here ${consequences.join("; and ")}.`
            : "The engine finds existing users with these queries and links them instead of creating duplicates.",
        };
      });

      await check("pagination", "Pagination (startIndex and count)", async () => {
        const first = await attempt(client.listUsers({ startIndex: 1, count: 1 }));
        if (!first.ok) {
          blockIfFatal(first.error);
          return {
            status: "warn",
            detail: failureText(first.error, first.exchange),
            engineAction: PAGINATION_ENGINE_ACTION,
          };
        }
        const second = await attempt(client.listUsers({ startIndex: 2, count: 1 }));
        return judgePagination(first, second, requestLine, failureText);
      });

      await check("patch-op-casing", 'PATCH op casing ("Replace" and "replace")', async () => {
        const user = created;
        if (!user) return needsUser("this check");
        const results: { op: string; accepted: boolean; applied: boolean; line: string; code?: string }[] =
          [];
        for (const op of ["Replace", "replace"] as const) {
          const value = `SelfTest${op}`;
          const result = await patchAndRead(user.id, { op, path: "name.givenName", value });
          results.push({
            op,
            accepted: result.accepted,
            applied: result.accepted && readGivenName(result.user) === value,
            line: result.line,
            code: result.code,
          });
        }
        const [capital, lower] = results as [(typeof results)[0], (typeof results)[0]];
        const describe = (r: (typeof results)[0]) =>
          `"${r.op}": ${r.line}${r.accepted ? (r.applied ? ", applied" : ", accepted but the value did not change") : ""}`;
        const detail = `${results.map(describe).join("; ")}.`;
        if (!capital.applied) {
          return {
            status: "fail",
            detail,
            engineAction: `The engine sends PATCH ops in Entra's casing ("Add", "Replace", "Remove") on every update; here every update would ${capital.accepted ? "be accepted but change nothing" : `fail with ${capital.code ?? "an error"}`}. Microsoft's SCIM guidance asks targets to accept ops in any case.`,
          };
        }
        return {
          status: lower.applied ? "pass" : "warn",
          detail,
          engineAction: lower.applied
            ? `The engine sends PATCH ops in Entra's casing ("Replace"); this target accepts it, and the RFC's lower case too.`
            : `The engine sends PATCH ops in Entra's casing ("Replace"), which this target accepts; it is not affected. Clients that send the RFC's lower case (Entra with aadOptscim062020) would fail.`,
        };
      });

      await check("patch-boolean", "PATCH active with Booleans", async () => {
        const user = created;
        if (!user) return needsUser("this check");
        // Each step flips the value, so "applied" is proven by the read-back rather than assumed.
        const steps: { label: string; value: unknown; expected: boolean }[] = [
          { label: "JSON false", value: false, expected: false },
          { label: "JSON true", value: true, expected: true },
          { label: 'string "False" (Entra\'s default)', value: "False", expected: false },
        ];
        const results: {
          label: string;
          accepted: boolean;
          applied: boolean;
          line: string;
          readBack?: unknown;
        }[] = [];
        for (const step of steps) {
          const result = await patchAndRead(user.id, { op: "Replace", path: "active", value: step.value });
          const readBack = result.user?.active;
          results.push({
            label: step.label,
            accepted: result.accepted,
            applied: result.accepted && asBoolean(readBack) === step.expected,
            line: result.line,
            readBack,
          });
        }
        const [jsonFalse, jsonTrue, stringFalse] = results as [
          (typeof results)[0],
          (typeof results)[0],
          (typeof results)[0],
        ];
        const detail = `${results
          .map(
            (r) =>
              `${r.label}: ${r.line}${r.accepted ? `, active read back as ${JSON.stringify(r.readBack)}${r.applied ? "" : " (not applied)"}` : ""}`,
          )
          .join("; ")}.`;
        const stringRead = results.some((r) => typeof r.readBack === "string");
        const readNote = stringRead
          ? ' The target returns active as a string; the engine reads "True"/"False" as Booleans, so comparisons stay stable.'
          : "";
        if (!jsonFalse.applied || !jsonTrue.applied) {
          return {
            status: "fail",
            detail,
            engineAction: `The engine sends active as a JSON Boolean: false to disable users who are unassigned or out of scope, true to enable them again. Here ${!jsonFalse.applied ? "disabling" : "enabling"} would not work.${readNote}`,
          };
        }
        if (!stringFalse.applied) {
          return {
            status: "warn",
            detail,
            engineAction: `Booleans are sent as JSON true/false, which this target handles; the engine is not affected. ${stringFalse.accepted ? 'It accepted the string "False" but left the user active, so a client sending Entra\'s string form would believe users were disabled.' : 'Entra\'s own default (the string "False") is refused here.'}${readNote}`,
          };
        }
        return {
          status: "pass",
          detail,
          engineAction: `Booleans are sent as JSON true/false; this target also tolerates Entra's "False" string.${readNote}`,
        };
      });

      await check("error-409", "409 for a duplicate userName", async () => {
        if (!created) return needsUser("this check");
        const outcome = await attempt(
          client.createUser(
            temporaryUserBody({ userName: temporary.userName, externalId: `selftest-${randomId()}` }),
          ),
        );
        if (outcome.ok) {
          extraIds.push(outcome.value.id);
          return {
            status: "fail",
            detail: `${requestLine(outcome.exchange)}: a second user with userName ${temporary.userName} was created (id ${outcome.value.id}; it is deleted below).`,
            engineAction:
              "The engine relies on its match query finding the existing user before it creates one; on this target a failed or skipped match silently creates a second account instead of being reported as EntryConflict.",
          };
        }
        const { error, exchange } = outcome;
        blockIfFatal(error);
        if (error.status !== 409 && !(error.status === 400 && error.scimType === "uniqueness")) {
          return {
            status: "fail",
            detail: `${failureText(error, exchange)}. A duplicate must answer 409 with scimType uniqueness (RFC 7644 §3.3).`,
            engineAction: `The engine logs such a create as ${error.code} rather than as a conflict, so the provisioning log will not point at the duplicate value.`,
          };
        }
        const shape = judgeErrorBody(error, error.status);
        const extra = [
          ...(error.status === 400 ? ["RFC 7644 §3.3 says 409, not 400"] : []),
          ...(error.scimType === "uniqueness" ? [] : ['no scimType "uniqueness"']),
        ];
        const doubtful = shape.problems.length + shape.notes.length + extra.length > 0;
        return {
          status: doubtful ? "warn" : "pass",
          detail: `${requestLine(exchange, error)}: ${shape.summary}${extra.length ? ` Also: ${extra.join("; ")}.` : ""}`,
          engineAction: `The engine logs this as ${error.code}: the object is not created, the log names the conflicting value, and it is retried in later cycles (escrowed; many such failures quarantine the connection) until the duplicate is resolved or matching finds the existing account.`,
        };
      });
    } finally {
      await check(
        "delete-user",
        "Delete the temporary user",
        async () => {
          if (!creationAttempted) {
            deleted = true;
            return needsUser("clean-up");
          }
          const ids = [...(created ? [created.id] : []), ...extraIds];
          const lines: string[] = [];
          if (!created) {
            // The create may have reached the target even though its answer did not reach us.
            const lookup = await attempt(client.findUsers(eq("userName", temporary.userName)));
            if (lookup.ok) {
              ids.push(
                ...lookup.value
                  .filter((user) => user.userName.toLowerCase() === temporary.userName.toLowerCase())
                  .map((user) => user.id),
              );
              leftoverFound = ids.length > 0;
              lines.push(`${requestLine(lookup.exchange)}: ${ids.length} leftover user(s)`);
            } else {
              lines.push(failureText(lookup.error, lookup.exchange));
              return {
                status: "fail",
                detail: `Could not check for a leftover ${temporary.userName}: ${lines.join("; ")}.`,
                engineAction: `Look for ${temporary.userName} in the target and delete it if it exists.`,
              };
            }
            if (ids.length === 0) {
              deleted = true;
              return {
                status: "skipped",
                detail: `${lines.join("; ")}: nothing to delete.`,
                engineAction: "Nothing was left in the target.",
              };
            }
          }
          const left: string[] = [];
          for (const id of ids) {
            const removal = await attempt(client.deleteUser(id));
            if (!removal.ok && removal.error.status !== 404) {
              lines.push(failureText(removal.error, removal.exchange));
              left.push(id);
              continue;
            }
            lines.push(requestLine(removal.exchange, removal.ok ? undefined : removal.error));
            const after = await attempt(client.getUser(id));
            if (after.ok) {
              left.push(id);
              lines.push(`${requestLine(after.exchange)}: the user is still there`);
            } else {
              lines.push(requestLine(after.exchange, after.error));
              if (after.error.status !== 404) left.push(id);
            }
          }
          deleted = left.length === 0;
          return {
            status: deleted ? "pass" : "fail",
            detail: `${lines.join("; ")}.${deleted ? "" : ` User(s) ${left.join(", ")} (${temporary.userName}) may still be in the target: delete them there.`}`,
            engineAction:
              "The engine deletes users with DELETE /Users/{id} (when deletes are enabled and within the accidental-deletion threshold) and treats a 404 afterwards as already deleted.",
          };
        },
        true,
      );
    }
  } else {
    const notAllowed = {
      status: "skipped" as const,
      detail: "Not run: creating a temporary user was not allowed.",
      engineAction: "Run the self-test with the temporary user allowed to check this.",
    };
    for (const [id, title] of [
      ["create-user", "Create a temporary user"],
      ["filter-finds-user", "Filter finds an existing user"],
      ["pagination", "Pagination (startIndex and count)"],
      ["patch-op-casing", 'PATCH op casing ("Replace" and "replace")'],
      ["patch-boolean", "PATCH active with Booleans"],
      ["error-409", "409 for a duplicate userName"],
    ] as const) {
      await check(id, title, () => Promise.resolve(notAllowed), true);
    }
  }

  // 4. What the target said about its limits, over every response of this run.
  await check(
    "rate-limit-headers",
    "Rate-limit headers",
    () => Promise.resolve(judgeRateLimits(observations, requestLine)),
    true,
  );

  const summary: SelfTestSummary = { pass: 0, warn: 0, fail: 0, skipped: 0, total: checks.length };
  for (const item of checks) summary[item.status] += 1;
  return {
    target: redactUrl(base, secrets),
    startedAt,
    durationMs: Math.round(performance.now() - started),
    summary,
    checks,
    temporaryUser: options.createTemporaryUser
      ? {
          userName: temporary.userName,
          ...(created ? { id: created.id } : {}),
          created: Boolean(created) || extraIds.length > 0 || leftoverFound,
          deleted,
        }
      : null,
    requestCount: observations.length,
  };

  /** PATCH, then the user as the target now has it (from a 200 body, else a GET). */
  async function patchAndRead(
    id: string,
    operation: ScimPatchOperation,
  ): Promise<{ accepted: boolean; user?: ScimUser; line: string; code?: string }> {
    const patched = await attempt(client.patchUser(id, [operation]));
    if (!patched.ok) {
      blockIfFatal(patched.error);
      return {
        accepted: false,
        line: failureText(patched.error, patched.exchange),
        code: patched.error.code,
      };
    }
    const line = requestLine(patched.exchange);
    if (patched.value) return { accepted: true, user: patched.value, line };
    const read = await attempt(client.getUser(id));
    if (!read.ok) return { accepted: true, line: `${line}, then ${failureText(read.error, read.exchange)}` };
    return { accepted: true, user: read.value, line: `${line}, then ${requestLine(read.exchange)}` };
  }
}

type RequestLine = (exchange: Observation | undefined, fallback?: ScimError) => string;

/** "GET /Users?filter=userName eq "…" → HTTP 200": relative to the tenant URL, query decoded for reading. */
function requestLineFor(base: string, secrets: readonly string[]): RequestLine {
  const redactedBase = redactUrl(base, secrets).replace(/\/+$/, "");
  return (exchange, fallback) => {
    const method = exchange?.method ?? fallback?.request.method ?? "?";
    const url = exchange?.url ?? fallback?.request.url ?? "";
    let path = url.startsWith(redactedBase) ? url.slice(redactedBase.length) || "/" : url;
    try {
      path = decodeURIComponent(path);
    } catch {
      // A malformed escape is shown as it was sent.
    }
    const status = exchange?.status ?? fallback?.status;
    const outcome = status ? `HTTP ${status}` : (exchange?.errorCode ?? fallback?.code ?? "no response");
    return `${method} ${path} → ${outcome}`;
  };
}

const PAGINATION_ENGINE_ACTION =
  "The engine never pages through /Users: it finds each object with an eq filter query, so pagination problems do not affect provisioning. Tools that list every user (exports, audits) would be affected.";

function judgeEmptyMatch(
  outcome: Outcome<{ id: string }[]>,
  noun: string,
  attribute: string,
  blockIfFatal: (error: ScimError) => void,
  requestLine: RequestLine,
  failureText: (error: ScimError, exchange?: Observation) => string,
): CheckResult {
  if (!outcome.ok) {
    blockIfFatal(outcome.error);
    return {
      status: "fail",
      detail: `${failureText(outcome.error, outcome.exchange)}.`,
      engineAction: `Every ${noun} whose match query is refused fails with ${outcome.error.code} and is retried in later cycles; nothing is created for it. Choose a matching attribute the target can filter on.`,
    };
  }
  const line = requestLine(outcome.exchange);
  const total = totalResultsOf(outcome.exchange);
  const found = outcome.value.length;
  if (found > 0) {
    return {
      status: "fail",
      detail: `${line}: ${found} ${noun}(s) returned (totalResults ${total ?? "?"}) for a random value no one has: the target ignores or misreads the filter.`,
      engineAction: `The engine would link a ${noun} to whatever account the target returns (or fail with DuplicateTargetEntries when several come back). Do not start provisioning until this is fixed, or choose another matching attribute.`,
    };
  }
  if (total !== undefined && total !== 0) {
    return {
      status: "warn",
      detail: `${line}: no Resources, but totalResults ${total}.`,
      engineAction: `The engine goes by the Resources returned, so it creates the ${noun} when none comes back; the inconsistent totalResults suggests the filter is not applied to the count.`,
    };
  }
  return {
    status: "pass",
    detail: `${line}: totalResults 0, no Resources (a random GUID value, as Entra's Test Connection sends).`,
    engineAction: `The engine matches ${noun}s by ${attribute} with this query and creates the ${noun} when none is found.`,
  };
}

function judgePagination(
  first: Outcome<ScimListResponse<ScimUser>> & { ok: true },
  second: Outcome<ScimListResponse<ScimUser>>,
  requestLine: RequestLine,
  failureText: (error: ScimError, exchange?: Observation) => string,
): CheckResult {
  const page1 = first.value;
  const notes: string[] = [];
  if (page1.Resources.length > 1) notes.push(`count=1 returned ${page1.Resources.length} users`);
  if (page1.startIndex !== undefined && page1.startIndex !== 1)
    notes.push(`startIndex echoed as ${page1.startIndex}, not 1`);
  if (page1.totalResults < page1.Resources.length)
    notes.push(`totalResults ${page1.totalResults} is below the ${page1.Resources.length} users returned`);
  if (page1.totalResults === 0) notes.push("totalResults 0 although the temporary user exists");
  const lines = [
    `${requestLine(first.exchange)}: totalResults ${page1.totalResults}, ${page1.Resources.length} user(s)`,
  ];
  if (!second.ok) {
    lines.push(failureText(second.error, second.exchange));
    notes.push("the second page could not be read");
  } else {
    const page2 = second.value;
    lines.push(
      `${requestLine(second.exchange)}: totalResults ${page2.totalResults}, ${page2.Resources.length} user(s)`,
    );
    if (page2.totalResults !== page1.totalResults)
      notes.push(
        `totalResults changed between pages (${page1.totalResults}, then ${page2.totalResults}; other clients may have changed users meanwhile)`,
      );
    if (page1.totalResults >= 2) {
      if (page2.Resources.length !== 1)
        notes.push(`page 2 with count=1 returned ${page2.Resources.length} users`);
      else if (page1.Resources[0] && page2.Resources[0]?.id === page1.Resources[0].id)
        notes.push("page 2 repeats page 1, so startIndex is ignored");
    } else if (page1.totalResults === 1 && page2.Resources.length > 0) {
      notes.push("startIndex 2 of 1 still returned users, so startIndex is ignored");
    }
    if (page2.startIndex !== undefined && page2.startIndex !== 2)
      notes.push(`startIndex echoed as ${page2.startIndex}, not 2`);
  }
  return {
    status: notes.length ? "warn" : "pass",
    detail: `${lines.join("; ")}.${notes.length ? ` ${capitalise(notes.join("; "))}.` : " startIndex and count are honoured and totalResults is consistent."}`,
    engineAction: PAGINATION_ENGINE_ACTION,
  };
}

function judgeRateLimits(observations: Observation[], requestLine: RequestLine): CheckResult {
  const withHeaders = observations.filter((exchange) =>
    Object.keys(exchange.headers).some((name) => name !== "content-type"),
  );
  const throttled = observations.filter((exchange) => exchange.status === 429);
  const engineAction =
    "The engine paces each connection through one request budget shared by all workers (20 requests/second, Dialpad's published limit), halves the rate on every 429 and recovers slowly, and waits out Retry-After when the target sends it. It does not need these headers; without them it relies on 429 responses alone.";
  const throttleNote = throttled.length
    ? ` ${throttled.length} request(s) were throttled (HTTP 429)${throttled.every((exchange) => exchange.headers["retry-after"]) ? ", each with Retry-After" : ", some without Retry-After"}.`
    : "";
  if (withHeaders.length === 0) {
    return {
      status: "warn",
      detail: `None of the ${observations.length} responses carried X-RateLimit-*, RateLimit-* or Retry-After headers.${throttleNote}`,
      engineAction,
    };
  }
  const sample = withHeaders.at(-1)!;
  const shown = Object.entries(sample.headers)
    .filter(([name]) => name !== "content-type")
    .map(([name, value]) => `${name}: ${value}`)
    .join(", ");
  const missingRetryAfter = throttled.some((exchange) => !exchange.headers["retry-after"]);
  return {
    status: missingRetryAfter ? "warn" : "pass",
    detail: `${withHeaders.length} of ${observations.length} responses carried rate-limit headers, e.g. ${shown} (${requestLine(sample)}).${throttleNote}`,
    engineAction,
  };
}

/** Whether an RFC 7644 error body is there and well-formed; `problems` fail, `notes` only warn. */
function judgeErrorBody(
  error: ScimError,
  expectedStatus: number | undefined,
): { summary: string; problems: string[]; notes: string[] } {
  const contentType = error.response?.contentType ?? "(no content type)";
  const text = error.response?.bodyExcerpt ?? "";
  const problems: string[] = [];
  const notes: string[] = [];
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || parsed === null || typeof parsed !== "object") {
    const shown = text ? `"${text.replace(/\s+/g, " ").slice(0, 120)}"` : "an empty body";
    problems.push(`the body is ${shown} (${contentType}), not an RFC 7644 §3.12 Error JSON`);
    return { summary: `${capitalise(problems.join("; "))}.`, problems, notes };
  }
  const body = scimErrorBodySchema.safeParse(parsed);
  const schemas = body.success ? body.data.schemas : undefined;
  if (!schemas?.includes(ERROR_URN)) problems.push(`schemas does not include ${ERROR_URN}`);
  const status = body.success ? body.data.status : undefined;
  if (status === undefined) problems.push("status is missing");
  else if (String(status) !== String(expectedStatus))
    problems.push(`status is ${JSON.stringify(status)}, not "${expectedStatus}"`);
  else if (typeof status === "number")
    notes.push(`status is the number ${status}; RFC 7644 §3.12 makes it a string`);
  if (!/application\/(scim\+)?json/i.test(contentType)) notes.push(`content type ${contentType}`);
  if (body.success && !body.data.detail) notes.push("no detail text for the log");
  const good = `an RFC 7644 Error body (schemas ${ERROR_URN}, status ${JSON.stringify(status)}${
    body.success && body.data.scimType ? `, scimType ${body.data.scimType}` : ""
  }${body.success && body.data.detail ? `, detail "${body.data.detail.slice(0, 120)}"` : ""}, ${contentType})`;
  const summary = problems.length
    ? `JSON error body, but ${problems.join("; ")}.${notes.length ? ` Also: ${notes.join("; ")}.` : ""}`
    : `${capitalise(good)}.${notes.length ? ` Noted: ${notes.join("; ")}.` : ""}`;
  return { summary, problems, notes };
}

function temporaryUserBody(user: { userName: string; externalId: string }): ScimResourceInput {
  return {
    schemas: [SCIM_SCHEMAS.user],
    userName: user.userName,
    externalId: user.externalId,
    active: true,
    displayName: "Provisioning self-test",
    name: { givenName: "SelfTest", familyName: "Provisioning" },
    emails: [{ value: user.userName, type: "work", primary: true }],
  };
}

/** Whether the schema of `path` (core `defaultSchema` unless the path names a URN) declares its attribute. */
/** The mapped-attributes check: every mapped target the target's /Schemas does not declare, by name. */
function judgeMappedAttributes(
  options: ScimSelfTestOptions,
  discovered: { schemas?: ScimSchemaDefinition[]; resourceTypes?: ScimResourceType[] },
): CheckResult {
  const target = options.targetName ?? "The target";
  const count = (options.userMappedAttributes?.length ?? 0) + (options.groupMappedAttributes?.length ?? 0);
  if (count === 0) {
    return {
      status: "skipped",
      detail: "Not run: no mapped target attributes were given.",
      engineAction: "Run the self-test from a connection to check its mappings against the target.",
    };
  }
  if (!discovered.schemas) {
    return {
      status: "skipped",
      detail: "Not run: /Schemas could not be read (see the check above).",
      engineAction:
        "Nothing is known about which attributes the target accepts; cycles show it object by object.",
    };
  }
  const undeclared = [
    ...findUndeclaredAttributes({
      resource: "User",
      targets: options.userMappedAttributes ?? [],
      schemas: discovered.schemas,
      resourceTypes: discovered.resourceTypes,
    }),
    ...findUndeclaredAttributes({
      resource: "Group",
      targets: options.groupMappedAttributes ?? [],
      schemas: discovered.schemas,
      resourceTypes: discovered.resourceTypes,
    }),
  ];
  if (!undeclared.length) {
    return {
      status: "pass",
      detail: `${target} declares all ${count} mapped target attribute(s) in /Schemas.`,
      engineAction:
        "The engine sends the attributes the mappings name; the target declares every one of them.",
    };
  }
  return {
    status: "warn",
    detail: undeclared
      .map(
        (entry) =>
          `${target} does not declare ${entry.target} (${entry.resource.toLowerCase()} mapping: ${entry.reason}); creates and updates that include it may be refused.`,
      )
      .join(" "),
    engineAction: `The engine still sends ${undeclared.length === 1 ? "this attribute" : "these attributes"} whenever the mapping gives a value. If the target refuses one, that object's create or update fails as a whole (SchemaAttributeNotFound for a refused path, BadRequest for a refused value) and shows in the provisioning log, while other objects carry on. Remove the mapping, or point it at an attribute the target declares.`,
  };
}

function declares(
  definitions: readonly ScimSchemaDefinition[],
  defaultSchema: string,
  path: string,
): boolean {
  const urn = /^(urn:[A-Za-z0-9.:_-]+):([^:]+)$/.exec(path);
  const schemaId = urn ? urn[1] : defaultSchema;
  const attribute = /^[A-Za-z][A-Za-z0-9_$-]*/.exec(urn ? urn[2]! : path)?.[0]?.toLowerCase();
  // RFC 7643 §3.1: id, externalId and meta are common to every resource and not listed in its schema.
  if (!urn && attribute && ["id", "externalid", "meta"].includes(attribute)) return true;
  const definition = definitions.find((candidate) => candidate.id === schemaId);
  if (!definition || !attribute) return false;
  return (definition.attributes ?? []).some((declared) => declared.name.toLowerCase() === attribute);
}

function totalResultsOf(exchange: Observation | undefined): number | undefined {
  if (!exchange?.responseBody) return undefined;
  try {
    const total = (JSON.parse(exchange.responseBody) as { totalResults?: unknown }).totalResults;
    return typeof total === "number"
      ? total
      : typeof total === "string" && /^\d+$/.test(total)
        ? Number(total)
        : undefined;
  } catch {
    return undefined;
  }
}

function readGivenName(user: ScimUser | undefined): unknown {
  const name = user?.name;
  return name && typeof name === "object" ? (name as { givenName?: unknown }).givenName : undefined;
}

function asBoolean(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (typeof value === "string" && /^(true|false)$/i.test(value.trim()))
    return value.trim().toLowerCase() === "true";
  return undefined;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
