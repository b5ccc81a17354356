import { isScimError, type ScimClient, type ScimPatchOperation, type ScimResource } from "../scim";
import type { ObjectType } from "./plan";
import {
  attributeKey,
  attributesNamedIn,
  isActivePath,
  isAttributeRefusal,
  operationsWithout,
  resourceWithout,
  type AttributeRefusal,
  type RefusalRegistry,
} from "./refusals";

/*
 * Sending a change so that an attribute the target refuses cannot block the rest of it. Without a
 * registry (or for any other error) a write behaves as a plain request: the error propagates.
 */

export interface RefusedInChange {
  /** Refused by the target in this change. */
  refused: AttributeRefusal[];
  /** Not sent because the target refused them before (in this cycle or a recent one). */
  leftOut: string[];
}

interface ObjectRef {
  objectType: ObjectType;
  sourceId: string;
}

/**
 * The refusal of one attribute: connection-wide when the target says it does not support the attribute
 * (a path it does not know, an attribute it cannot set), for this object only when it is this object's
 * value that was refused (an invalidValue about the value itself), so one bad value does not stop an
 * attribute for everyone.
 */
function refusalOf(error: unknown, attribute: string): AttributeRefusal {
  const scimError = isScimError(error) ? error : null;
  const scimType = scimError?.scimType ?? null;
  const detail = scimError?.detail ?? String(error);
  const unsupported =
    scimType === null ||
    /^(invalidPath|noTarget|mutability)$/i.test(scimType) ||
    /not supported|unsupported|unknown attribute|no (such )?attribute|does not (exist|support)|not (a )?recogni[sz]ed/i.test(
      detail,
    );
  return {
    attribute,
    scimType,
    detail,
    request: scimError ? `${scimError.request.method} ${scimError.request.url}` : "",
    attributeWide: unsupported,
  };
}

/** PATCH, leaving out known refused attributes and isolating newly refused ones. */
export async function patchIsolatingRefusals(
  scim: ScimClient,
  object: ObjectRef & { targetId: string },
  operations: readonly ScimPatchOperation[],
  registry: RefusalRegistry | undefined,
): Promise<RefusedInChange> {
  const send = (ops: ScimPatchOperation[]) =>
    object.objectType === "User"
      ? scim.patchUser(object.targetId, ops)
      : scim.patchGroup(object.targetId, ops);
  if (!registry) {
    await send([...operations]);
    return { refused: [], leftOut: [] };
  }
  const { kept, leftOut } = operationsWithout(operations, (attribute) =>
    registry.isRefused(object.objectType, attribute),
  );
  const result: RefusedInChange = { refused: [], leftOut: leftOut.map((operation) => operation.path!) };
  // Disable first: whatever else the target refuses, `active:false` must land.
  let pending = [...kept].sort((a, b) => Number(isActive(b)) - Number(isActive(a)));
  while (pending.length) {
    try {
      await send(pending);
      break;
    } catch (error) {
      if (!isAttributeRefusal(error)) throw error;
      const candidates = pending.filter((operation) => operation.path && !isActive(operation));
      const named = attributesNamedIn(
        (error as { detail: string }).detail,
        candidates.map((operation) => operation.path!),
      );
      if (!named.length) {
        pending = await sendOneByOne(pending, send, result, error);
        break;
      }
      for (const attribute of named) result.refused.push(refusalOf(error, attribute));
      const refusedKeys = new Set(named.map(attributeKey));
      pending = pending.filter(
        (operation) => !operation.path || !refusedKeys.has(attributeKey(operation.path)),
      );
    }
  }
  await recordAll(registry, object, result);
  return result;
}

/**
 * The detail named none of the attributes: each operation goes alone (once per newly refused attribute;
 * it is left out of every later change), `active` first. An operation refused alone is the refused one.
 */
async function sendOneByOne(
  operations: ScimPatchOperation[],
  send: (ops: ScimPatchOperation[]) => Promise<unknown>,
  result: RefusedInChange,
  firstError: unknown,
): Promise<ScimPatchOperation[]> {
  if (operations.length === 1) {
    const [only] = operations;
    if (!only?.path || isActive(only)) throw firstError;
    result.refused.push(refusalOf(firstError, only.path));
    return [];
  }
  for (const operation of operations) {
    try {
      await send([operation]);
    } catch (error) {
      if (!isAttributeRefusal(error) || !operation.path || isActive(operation)) throw error;
      result.refused.push(refusalOf(error, operation.path));
    }
  }
  return [];
}

/** POST, without known refused attributes; an attribute the refusal names is removed and the POST sent again. */
export async function createIsolatingRefusals(
  scim: ScimClient,
  object: ObjectRef,
  resource: Readonly<Record<string, unknown>>,
  attributes: readonly string[],
  registry: RefusalRegistry | undefined,
): Promise<{ created: ScimResource } & RefusedInChange> {
  const send = (body: Record<string, unknown>) =>
    object.objectType === "User"
      ? scim.createUser(body as Parameters<ScimClient["createUser"]>[0])
      : scim.createGroup(body as Parameters<ScimClient["createGroup"]>[0]);
  if (!registry) return { created: await send({ ...resource }), refused: [], leftOut: [] };
  // The identity of the new resource is never left out: without it there is nothing to create.
  const removable = attributes.filter(
    (attribute) => !isActivePath(attribute) && !isIdentity(object.objectType, attribute),
  );
  const leftOut = removable.filter((attribute) => registry.isRefused(object.objectType, attribute));
  const result: RefusedInChange = { refused: [], leftOut };
  let body = resourceWithout(resource, leftOut);
  let remaining = removable.filter((attribute) => !leftOut.includes(attribute));
  for (;;) {
    try {
      const created = await send(body);
      await recordAll(registry, object, result);
      return { created, ...result };
    } catch (error) {
      // A 400 on a POST created nothing, so sending it again without the named attribute is safe.
      if (!isAttributeRefusal(error)) throw error;
      const named = attributesNamedIn((error as { detail: string }).detail, remaining);
      if (!named.length) throw error;
      for (const attribute of named) result.refused.push(refusalOf(error, attribute));
      body = resourceWithout(body, named);
      remaining = remaining.filter((attribute) => !named.includes(attribute));
    }
  }
}

function isIdentity(objectType: ObjectType, attribute: string): boolean {
  const names = objectType === "User" ? ["userName", "externalId"] : ["displayName", "externalId"];
  return names.some((name) => attributeKey(name) === attributeKey(attribute));
}

function isActive(operation: ScimPatchOperation): boolean {
  return Boolean(operation.path && isActivePath(operation.path));
}

async function recordAll(registry: RefusalRegistry, object: ObjectRef, result: RefusedInChange) {
  for (const refusal of result.refused) await registry.record(object.objectType, object.sourceId, refusal);
  for (const attribute of result.leftOut)
    await registry.record(object.objectType, object.sourceId, {
      attribute,
      scimType: null,
      detail: "",
      request: "",
      attributeWide: true,
      known: true,
    });
}
