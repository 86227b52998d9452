import type { Context } from 'hono'

/**
 * Work to run once the answer is on its way (the runtime's `waitUntil`); where the request came
 * without an execution context (`app.request` in tests), the work is awaited instead.
 * @example await signUp(deps, mail, record, now, afterAnswer(c))
 */
export const afterAnswer =
  (c: Context) =>
  async (work: Promise<unknown>): Promise<void> => {
    let ctx: ExecutionContext | undefined
    try {
      ctx = c.executionCtx
    } catch {
      ctx = undefined // Hono throws when the request has no execution context
    }
    if (ctx) ctx.waitUntil(work)
    else await work
  }
