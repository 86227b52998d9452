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

/** The local secrets a run needs, each made at random the first time it is missing. */
const LOCAL_SECRETS = ['SIGNING_KEY', 'ADMIN_TOKEN'] as const

/**
 * Local secrets: created once; a developer's own values (e.g. RESEND_API_KEY) stay. A file missing
 * SIGNING_KEY (or every signup would be refused) or ADMIN_TOKEN (the dashboard's sign-in) gets it
 * appended; nothing else in it changes. Returns the names added.
 */
export function ensureDevVars(path = join(root, '.dev.vars')): string[] {
  const secret = () => randomBytes(32).toString('base64url')
  if (existsSync(path)) {
    const text = readFileSync(path, 'utf8')
    const missing = LOCAL_SECRETS.filter((name) => !new RegExp(`^\\s*${name}\\s*=`, 'm').test(text))
    if (missing.length > 0) appendFileSync(path, `\n${missing.map((name) => `${name}=${secret()}`).join('\n')}\n`)
    return missing
  }
  writeFileSync(
    path,
    [
      '# Local secrets for `npm start` (created once, never overwritten; not committed). See .dev.vars.example.',
      `SIGNING_KEY=${secret()}`,
      '# The dashboard at /admin: sign in with this token.',
      `ADMIN_TOKEN=${secret()}`,
      '# RESEND_API_KEY=re_...   # set to send real email through Resend instead of the local outbox',
      '',
    ].join('\n'),
    { mode: 0o600 },
  )
  return [...LOCAL_SECRETS]
}

const added = ensureDevVars()
if (added.length > 0) console.log(`.dev.vars: added a random ${added.join(' and ')} (nothing else changed)`)
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
console.log(
  `\nReading at ${origin}/back-pain/back-exercises/spine-exercises — emails land in ${origin}/dev/outbox` +
    `\nDashboard at ${origin}/admin — sign in with ADMIN_TOKEN from .dev.vars\n`,
)
