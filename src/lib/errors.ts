import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

/** Each refused field's first problem, keyed by field name (`form` for the request as a whole). */
export type FieldProblems = Record<string, string>

/** The one error shape of every answer that refuses something. */
export interface ErrorBody {
  error: { status: number; message: string; fields: FieldProblems }
}

/** "email must be …; name may …": the fields' problems as one sentence. */
export const describeProblems = (fields: FieldProblems) =>
  Object.entries(fields)
    .map(([field, problem]) => (field === 'form' ? problem : `${field} ${problem}`))
    .join('; ')

/**
 * A refusal, thrown from anywhere below the routes and shaped once by `app.onError`: JSON in the
 * one error shape for API clients, a page for browsers.
 * @example throw new ApiError(409, { to: 'is suppressed and is never mailed again' })
 */
export class ApiError extends HTTPException {
  readonly fields: FieldProblems
  readonly headers: Record<string, string>

  constructor(
    status: ContentfulStatusCode,
    fields: FieldProblems | string,
    options: { headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    const problems = typeof fields === 'string' ? { form: fields } : fields
    super(status, { message: describeProblems(problems), cause: options.cause })
    this.fields = typeof fields === 'string' ? {} : problems
    this.headers = options.headers ?? {}
  }

  /** The error in the one shape. */
  body(): ErrorBody {
    return { error: { status: this.status, message: this.message, fields: this.fields } }
  }
}

/** Any HTTPException as an ApiError (Hono's own, such as a malformed JSON body, included). */
export const asApiError = (err: HTTPException): ApiError =>
  err instanceof ApiError ? err : new ApiError(err.status as ContentfulStatusCode, err.message || 'refused')

/** The issues of a Standard Schema validation (valibot's), as each field's first problem. */
export function fieldProblems(issues: readonly { message: string; path?: readonly unknown[] }[]): FieldProblems {
  // No prototype: a field named "__proto__" is reported like any other.
  const out: FieldProblems = Object.create(null)
  for (const issue of issues) {
    // A nested field is named by its path: `segment.course`.
    const keys = (issue.path ?? []).map((p) => (typeof p === 'object' && p !== null && 'key' in p ? p.key : p))
    const field = keys.length === 0 ? 'form' : keys.map(String).join('.')
    out[field] ??= issue.message
  }
  return out
}
