/** Lists cut to fit D1's limits on one bound value. */

/**
 * How many characters of JSON one bound value carries: D1 takes at most 2 MB in one value, and
 * this is at most 1.5 MB in UTF-8 whatever the text.
 */
export const RUN_CHARS = 500_000

/** Consecutive runs of `values` whose JSON stays within `chars` (a value larger than that runs alone). */
export function jsonRuns<T>(values: T[], chars = RUN_CHARS): T[][] {
  const out: T[][] = []
  let run: T[] = []
  let size = 2
  for (const value of values) {
    const n = JSON.stringify(value).length + 1
    if (run.length > 0 && size + n > chars) {
      out.push(run)
      run = []
      size = 2
    }
    run.push(value)
    size += n
  }
  if (run.length > 0) out.push(run)
  return out
}
