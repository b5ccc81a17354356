import { randomUUID } from "node:crypto";

/**
 * Directory extension definitions (Graph's extensionProperty): custom attributes an application registers
 * on users or groups, named `extension_{appId without dashes}_{name}`. Graph lists them through POST
 * /directoryObjects/getAvailableExtensionProperties and lets `$select` read them like any property.
 */
export type ExtensionTarget = "User" | "Group";

export interface ExtensionProperty {
  id: string;
  deletedDateTime: null;
  appDisplayName: string;
  dataType: "Binary" | "Boolean" | "DateTime" | "Integer" | "LargeInteger" | "String";
  isMultiValued: boolean;
  isSyncedFromOnPremises: boolean;
  /** The full name: extension_{appId without dashes}_{name}. */
  name: string;
  targetObjects: ExtensionTarget[];
}

export interface ExtensionPropertyInput {
  /** The owning application's appId (a GUID). */
  appId: string;
  appDisplayName: string;
  /** The short name the application registered; the full name is derived from it. */
  name: string;
  dataType?: ExtensionProperty["dataType"];
  isMultiValued?: boolean;
  isSyncedFromOnPremises?: boolean;
  targetObjects: ExtensionTarget[];
}

export class ExtensionRegistry {
  private readonly definitions: ExtensionProperty[] = [];

  register(input: ExtensionPropertyInput): ExtensionProperty {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(input.appId))
      throw new Error(`appId '${input.appId}' is not a GUID`);
    if (!/^[A-Za-z0-9_]+$/.test(input.name)) throw new Error(`'${input.name}' is not a valid extension name`);
    const name = `extension_${input.appId.replace(/-/g, "").toLowerCase()}_${input.name}`;
    const existing = this.definitions.find((definition) => definition.name === name);
    if (existing) return existing;
    const definition: ExtensionProperty = {
      id: randomUUID(),
      deletedDateTime: null,
      appDisplayName: input.appDisplayName,
      dataType: input.dataType ?? "String",
      isMultiValued: input.isMultiValued ?? false,
      isSyncedFromOnPremises: input.isSyncedFromOnPremises ?? false,
      name,
      targetObjects: [...input.targetObjects],
    };
    this.definitions.push(definition);
    return definition;
  }

  /** Graph's answer to getAvailableExtensionProperties; `isSyncedFromOnPremises` narrows it when given. */
  list(isSyncedFromOnPremises?: boolean): ExtensionProperty[] {
    return this.definitions.filter(
      (definition) =>
        isSyncedFromOnPremises === undefined || definition.isSyncedFromOnPremises === isSyncedFromOnPremises,
    );
  }

  /** The full names `$select` accepts on the given type. */
  namesFor(target: ExtensionTarget): string[] {
    return this.definitions
      .filter((definition) => definition.targetObjects.includes(target))
      .map((definition) => definition.name);
  }

  /** Deletes a definition (its application removed it); `$select` of it then fails as in Graph. */
  remove(name: string): boolean {
    const index = this.definitions.findIndex(
      (definition) => definition.name.toLowerCase() === name.toLowerCase(),
    );
    if (index < 0) return false;
    this.definitions.splice(index, 1);
    return true;
  }

  find(name: string): ExtensionProperty | undefined {
    return this.definitions.find((definition) => definition.name.toLowerCase() === name.toLowerCase());
  }
}
