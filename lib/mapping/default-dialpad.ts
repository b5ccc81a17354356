import { ZMappingConfig, type TAttributeMappingInput, type TMappingConfig } from "./model";
import { ENTERPRISE_USER_SCHEMA } from "./scim-path";

/**
 * Dialpad's default attribute mappings. Microsoft's Dialpad tutorial shows them only as a screenshot, so
 * each entry states where it comes from (tags as in docs/reference: [DP-TUT] Dialpad provisioning tutorial,
 * [SCIM-DEV] Entra's SCIM guide, [MAP] customize-application-attributes, Dialpad help centre pages).
 */
const USER_MAPPINGS: TAttributeMappingInput[] = [
  {
    type: "Direct",
    source: "userPrincipalName",
    target: "userName",
    matchingPriority: 1,
    description:
      "Dialpad identifies a user by userName, which must be the e-mail-style sign-in name (Dialpad's SCIM help: username should be their email); Entra's SCIM guide matches on userName ([SCIM-DEV] GET /Users?filter=userName eq ...).",
  },
  {
    type: "Expression",
    source: 'Switch([IsSoftDeleted], , "False", "True", "True", "False")',
    target: "active",
    description:
      "Entra's standard active mapping: IsSoftDeleted is True when the user is unassigned, out of scope, soft-deleted or disabled ([MAP]); Dialpad suspends a user on active=false. Sent as a Boolean.",
  },
  {
    type: "Direct",
    source: "mail",
    target: 'emails[type eq "work"].value',
    description:
      "Work e-mail, the multi-valued typed form Entra sends ([SCIM-DEV] POST /Users emails[{primary,type:work,value}]).",
  },
  {
    type: "Direct",
    source: "givenName",
    target: "name.givenName",
    description: "First name ([SCIM-DEV] name.givenName).",
  },
  {
    type: "Direct",
    source: "surname",
    target: "name.familyName",
    description: "Last name ([SCIM-DEV] name.familyName).",
  },
  {
    type: "Direct",
    source: "displayName",
    target: "displayName",
    description: "Display name shown in Dialpad ([SCIM-DEV] displayName).",
  },
  {
    type: "Direct",
    source: "objectId",
    target: "externalId",
    description:
      "Entra's immutable object id as externalId, so the Dialpad user stays linked when the UPN changes ([SCIM-DEV] externalId).",
  },
  {
    type: "Direct",
    source: "jobTitle",
    target: "title",
    description: "Job title, SCIM core User title attribute.",
  },
  {
    type: "Direct",
    source: "telephoneNumber",
    target: 'phoneNumbers[type eq "work"].value',
    description: 'Business phone, typed multi-valued entry ([MAP] phoneNumbers[type eq "work"].value).',
  },
  {
    type: "Direct",
    source: "mobile",
    target: 'phoneNumbers[type eq "mobile"].value',
    description: 'Mobile phone ([MAP] phoneNumbers[type eq "mobile"].value).',
  },
  {
    type: "Direct",
    source: "department",
    target: `${ENTERPRISE_USER_SCHEMA}:department`,
    description:
      "Department in the enterprise extension ([MAP] example target). Dialpad also uses department to pick the office when officeName matches none (Okta SAML/SCIM FAQs).",
  },
  {
    type: "Direct",
    source: "physicalDeliveryOfficeName",
    target: `${ENTERPRISE_USER_SCHEMA}:officeName`,
    description:
      "Dialpad places a new user in the office whose name exactly matches officeName, physicalDeliveryOfficeName or department; otherwise it falls back to country (Dialpad Okta SAML/SCIM FAQs).",
  },
  {
    type: "Direct",
    source: "country",
    target: 'addresses[type eq "work"].country',
    description:
      "Country of the work address: Dialpad's fallback for office placement when no office name matches (Dialpad FAQs).",
  },
];

const GROUP_MAPPINGS: TAttributeMappingInput[] = [
  {
    type: "Direct",
    source: "displayName",
    target: "displayName",
    matchingPriority: 1,
    description:
      "Groups are matched by displayName ([SCIM-DEV] GET /Groups?filter=displayName eq ...). Dialpad does not support renaming groups ([DP-TUT]).",
  },
  {
    type: "Direct",
    source: "objectId",
    target: "externalId",
    description: "Entra's object id as externalId ([SCIM-DEV] POST /Groups).",
  },
  {
    type: "Direct",
    source: "members",
    target: "members",
    description:
      "Group members, added and removed with PATCH after the users exist ([SCIM-DEV] PATCH /Groups members).",
  },
];

/** A fresh copy of the default Dialpad configuration (validated, defaults filled in). */
export function defaultDialpadMapping(): TMappingConfig {
  return ZMappingConfig.parse({
    users: {
      name: "Synchronize Microsoft Entra users to Dialpad",
      enabled: true,
      sourceObjectName: "User",
      targetObjectName: "User",
      actions: { create: true, update: true, delete: true },
      attributeMappings: USER_MAPPINGS,
      scope: null,
    },
    groups: {
      name: "Synchronize Microsoft Entra groups to Dialpad",
      enabled: true,
      sourceObjectName: "Group",
      targetObjectName: "Group",
      actions: { create: true, update: true, delete: true },
      attributeMappings: GROUP_MAPPINGS,
      scope: null,
    },
  });
}
