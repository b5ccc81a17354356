/** Errors the API reports to callers as RFC 9457 problem details. */
export type AppErrorCode =
  | "validation_failed"
  | "not_found"
  | "conflict"
  | "not_configured"
  | "worker_unavailable"
  | "upstream_failed"
  | "payload_too_large"
  | "unsupported_media_type";

const STATUS: Record<AppErrorCode, number> = {
  validation_failed: 422,
  not_found: 404,
  conflict: 409,
  not_configured: 409,
  worker_unavailable: 503,
  upstream_failed: 502,
  payload_too_large: 413,
  unsupported_media_type: 415,
};

export interface FieldError {
  field: string;
  message: string;
}

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: AppErrorCode,
    readonly detail: string,
    readonly errors: FieldError[] = [],
  ) {
    super(detail);
    this.name = "AppError";
    this.status = STATUS[code];
  }
}

export function validationFailed(errors: FieldError[]): AppError {
  const summary = errors.map((error) => `${error.field}: ${error.message}`).join("; ");
  return new AppError("validation_failed", `Some settings are not valid: ${summary}`, errors);
}
