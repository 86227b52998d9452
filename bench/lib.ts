/** What the benchmarks share: a fresh local state, and one `wrangler dev` serving the Worker. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { getPlatformProxy } from 'wrangler'
import { offlineEnv } from '../scripts/publish'
import { buildSite } from '../scripts/site-build'
import { kvStore, publishSite, type SiteBuild } from '../src/site/publish'

export const root = fileURLToPath(new URL('..', import.meta.url))
export const ESSAY = '/back-pain/back-exercises/spine-exercises'
const env = { ...process.env, ...offlineEnv, CI: 'true' }

/** Pages kept out of search engines by design (noindex), whose Lighthouse SEO score is not a target. */
export const notIndexed = (path: string) => path.startsWith('/search') || path.startsWith('/preferences')

/** A fresh local state in `dir`: migrations applied, the site published; `seed` may add rows. */
export async function prepareState(
  dir: string,
  seed?: (db: D1Database) => Promise<void>,
  contentDir = join(root, 'content'),
): Promise<SiteBuild> {
  const { build } = await buildSite(contentDir)
  await rm(dir, { recursive: true, force: true })
  execFileSync('npx', ['wrangler', 'd1', 'migrations', 'apply', 'DB', '--local', '--persist-to', dir], {
    cwd: root,
    env,
    stdio: 'ignore',
  })
  Object.assign(process.env, offlineEnv)
  const proxy = await getPlatformProxy<Env>({ persist: { path: join(dir, 'v3') }, remoteBindings: false })
  try {
    await publishSite(kvStore(proxy.env.CONTENT), build, new Date())
    await seed?.(proxy.env.DB)
  } finally {
    await proxy.dispose()
  }
  return build
}

/** A running `wrangler dev`, and the pid of its workerd (for CPU figures). */
export interface RunningWorker {
  child: ChildProcess
  stop(): void
}

/** Starts `wrangler dev` on the state in `dir` with extra vars and flags; resolves once it answers. */
export async function startWorker(
  port: number,
  dir: string,
  vars: Record<string, string>,
  flags: string[] = [],
): Promise<RunningWorker> {
  const args = [
    'wrangler',
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--persist-to',
    dir,
    '--log-level',
    'error',
    ...flags,
  ]
  const allVars = {
    ENVIRONMENT: 'local',
    SIGNING_KEY: 'bench-signing-key',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    ...vars,
  }
  const child = spawn('npx', [...args, ...Object.entries(allVars).flatMap(([k, v]) => ['--var', `${k}:${v}`])], {
    cwd: root,
    env,
    stdio: 'ignore',
    detached: true,
  })
  const stop = () => {
    if (child.pid) process.kill(-child.pid, 'SIGTERM')
  }
  for (let i = 0; i < 120; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}${ESSAY}`)).ok) return { child, stop }
    } catch {}
    await new Promise((r) => setTimeout(r, 500))
  }
  stop()
  throw new Error('wrangler dev did not start within 60 s')
}

/** CPU seconds used so far by the workerd processes of a process group (Linux /proc). */
export function workerdCpuSeconds(pgid: number): number {
  let ticks = 0
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      // After the command: state, ppid, pgrp, … utime is field 14 and stime 15 of the whole line.
      if (Number(fields[2]) !== pgid || !stat.includes('(workerd)')) continue
      ticks += Number(fields[11]) + Number(fields[12])
    } catch {}
  }
  return ticks / 100
}
