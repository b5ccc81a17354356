export const CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User";
export const CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
export const ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/** The emulator's own read-only extension; Dialpad does not document how it exposes office/licence/state. */
export const DIALPAD_USER = "urn:ietf:params:scim:schemas:extension:dialpad:2.0:User";
/** Entra adds this to group create requests ([SCIM-DEV]); accepted and ignored. */
export const MS_AD_GROUP = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";

export const LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
export const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
export const SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
export const SP_CONFIG = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
export const RESOURCE_TYPE = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
export const SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema";

export const KNOWN_SCHEMAS = [CORE_USER, CORE_GROUP, ENTERPRISE_USER, DIALPAD_USER] as const;
