/** Each benchmark part records its figures here; bench/table.ts prints them as one table. */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { root } from './lib'

const file = join(root, 'tmp/bench-figures.json')

/** Adds figures under their part's name. */
export async function record(part: string, figures: Record<string, unknown>) {
  await mkdir(join(root, 'tmp'), { recursive: true })
  const all = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as Record<string, unknown>
  await writeFile(file, JSON.stringify({ ...all, [part]: figures }, null, 2))
}

/** Everything recorded by the last run. */
export const recorded = async () =>
  JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as Record<string, Record<string, number>>
