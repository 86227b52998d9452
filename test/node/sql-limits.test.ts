import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ROW_JSON } from '../../src/subscribers/lifecycle'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** Every SQL function call in `sql` with its number of arguments (commas at its own depth, plus one). */
function calls(sql: string): { name: string; args: number }[] {
  const out: { name: string; args: number }[] = []
  const stack: { name: string; args: number; quote?: boolean }[] = []
  let quoted = false
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i]
    if (ch === "'") quoted = !quoted
    if (quoted) continue
    if (ch === '(') {
      const name = /([a-z_]+)\s*$/i.exec(sql.slice(0, i))?.[1] ?? ''
      stack.push({ name, args: 1 })
    } else if (ch === ',' && stack.length > 0) (stack.at(-1) as { args: number }).args++
    else if (ch === ')') {
      const done = stack.pop()
      if (done?.name) out.push({ name: done.name, args: done.args })
    }
  }
  return out
}

/**
 * D1 passes at most 32 arguments to an SQL function and refuses the statement otherwise; miniflare's
 * SQLite does not check, so only this test would notice before production does.
 */
describe("SQL within D1's limit of 32 arguments per function", () => {
  it("holds for the outbound event's row JSON", () => {
    const json = calls(ROW_JSON).filter((c) => /^json_/.test(c.name))
    expect(json.length).toBeGreaterThan(0)
    for (const c of json) expect(c.args, c.name).toBeLessThanOrEqual(32)
  })

  it('holds for every json_ call written in the source', async () => {
    const files = (await readdir(join(root, 'src'), { recursive: true })).filter((f) => /\.tsx?$/.test(f))
    let seen = 0
    for (const f of files) {
      const text = await readFile(join(root, 'src', f), 'utf8')
      for (const literal of text.match(/`[^`]*json_[a-z]+\([^`]*`/g) ?? [])
        for (const c of calls(literal).filter((x) => /^json_/.test(x.name))) {
          seen++
          expect(c.args, `${f}: ${c.name}`).toBeLessThanOrEqual(32)
        }
    }
    expect(seen).toBeGreaterThan(5)
  })
})
