// `npm run typecheck`'s second half: are the committed Env types (worker-configuration.d.ts) those
// wrangler.toml makes? wrangler 4.86's `types --check` counts a developer's .dev.vars even with
// `--env-file /dev/null`, while the types are made without it (secrets are declared in
// src/secrets.d.ts), so the check runs with .dev.vars set aside and put back whatever happens.
import { execFileSync } from 'node:child_process'
import { existsSync, renameSync } from 'node:fs'

const kept = '.dev.vars.typecheck-kept'
const aside = existsSync('.dev.vars')
if (aside) renameSync('.dev.vars', kept)
try {
  execFileSync(
    'npx',
    ['wrangler', 'types', '--include-runtime=false', '--strict-vars=false', '--env-file', '/dev/null', '--check'],
    { stdio: 'inherit', env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false' } },
  )
} catch {
  process.exitCode = 1
} finally {
  if (aside) renameSync(kept, '.dev.vars')
}
