/** RFC 7644 §3.12 error `scimType` values (plus none for plain HTTP errors). */
export type ScimType =
  | "invalidFilter"
  | "tooMany"
  | "uniqueness"
  | "mutability"
  | "invalidSyntax"
  | "invalidPath"
  | "noTarget"
  | "invalidValue"
  | "invalidVers"
  | "sensitive";

export const ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error";

/** Thrown by the company model and parsers; the server turns it into an RFC 7644 Error response. */
export class ScimError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly scimType?: ScimType,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = "ScimError";
  }

  toJSON(): ScimErrorBody {
    return scimErrorBody(this.status, this.detail, this.scimType);
  }
}

export interface ScimErrorBody {
  schemas: [typeof ERROR_SCHEMA];
  status: string;
  scimType?: ScimType;
  detail: string;
}

export function scimErrorBody(status: number, detail: string, scimType?: ScimType): ScimErrorBody {
  // RFC 7644 §3.12 types `status` as a string, which is why it is not a number here.
  return { schemas: [ERROR_SCHEMA], status: String(status), ...(scimType ? { scimType } : {}), detail };
}

export const badRequest = (scimType: ScimType, detail: string): ScimError =>
  new ScimError(400, detail, scimType);
