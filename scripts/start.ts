/**
 * `npm start`: prepares a local run and serves it. Creates .dev.vars with a random signing key the
 * first time (never overwriting it), applies the D1 migrations to the local database, builds the
 * content and emails, publishes them to the local KV, and runs wrangler dev on 127.0.0.1 (PORT,
 * default 8787) offline: no account, no network. Without RESEND_API_KEY, mail goes to /dev/outbox.
 * wrangler dev runs no cron, so this ticks the Worker's scheduled handler once a minute: confirmed
 * subscribers get their lessons locally as they would deployed.
 */
import { execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { publishSite } from '../src/site/publish'
import { offlineEnv, openStore } from './publish'
import { buildToDist } from './site-build'

const root = fileURLToPath(new URL('..', import.meta.url))
const port = process.env.PORT ?? '8787'
const origin = `http://127.0.0.1:${port}`
const env = { ...process.env, ...offlineEnv }

/**
 * Local secrets: created once; a developer's own values (e.g. RESEND_API_KEY) stay. A file without
 * SIGNING_KEY gets one appended (nothing else in it changes), or every signup would be refused.
 */
export function ensureDevVars(path = join(root, '.dev.vars')): boolean {
  if (existsSync(path)) {
    if (/^\s*SIGNING_KEY\s*=/m.test(readFileSync(path, 'utf8'))) return false
    appendFileSync(path, `\nSIGNING_KEY=${randomBytes(32).toString('base64url')}\n`)
    return true
  }
  writeFileSync(
    path,
    [
      '# Local secrets for `npm start` (created once, never overwritten; not committed). See .dev.vars.example.',
      `SIGNING_KEY=${randomBytes(32).toString('base64url')}`,
      '# RESEND_API_KEY=re_...   # set to send real email through Resend instead of the local outbox',
      '',
    ].join('\n'),
    { mode: 0o600 },
  )
  return true
}

if (ensureDevVars()) console.log('.dev.vars: added a random SIGNING_KEY (nothing else changed)')
const shell = process.platform === 'win32'
execFileSync('npx', ['wrangler', 'd1', 'migrations', 'apply', 'DB', '--local'], {
  cwd: root,
  env: { ...env, CI: 'true' },
  stdio: ['ignore', 'ignore', 'inherit'],
  shell,
})
const { build } = await buildToDist()
const { store, close } = await openStore(false)
try {
  const report = await publishSite(store, build, new Date())
  console.log(
    `content: ${report.uploaded.length} blob(s) uploaded, ${report.skipped.length} unchanged, manifest ${report.manifestId.slice(0, 12)}`,
  )
} finally {
  await close()
}

const child = spawn(
  'npx',
  [
    'wrangler',
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    port,
    '--var',
    'ENVIRONMENT:local',
    '--var',
    `PUBLIC_URL:${origin}`,
  ],
  { cwd: root, stdio: 'inherit', env, shell },
)

const CRON = '*/5 * * * *'
const tick = async () => {
  try {
    const url = `${origin}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent(CRON)}&time=${Date.now()}`
    await (await fetch(url)).body?.cancel()
  } catch {
    // wrangler dev is still starting, or reloading: the next minute tries again.
  }
}
const ticker = setInterval(tick, 60_000)
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    clearInterval(ticker)
    child.kill(signal)
  })
child.on('exit', (code) => {
  clearInterval(ticker)
  process.exit(code ?? 0)
})
console.log(`\nReading at ${origin}/back-pain/back-exercises/spine-exercises — emails land in ${origin}/dev/outbox\n`)
