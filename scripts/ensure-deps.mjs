// Runs before `npm start` and `npm test` on a fresh clone. Node built-ins only: nothing is installed yet.
// Installs from the lockfile (npm ci) when node_modules is missing or does not match package-lock.json.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const lockPath = `${root}package-lock.json`
const installedPath = `${root}node_modules/.package-lock.json`

function staleReason() {
  if (!existsSync(installedPath)) return 'node_modules is missing'
  const wanted = JSON.parse(readFileSync(lockPath, 'utf8')).packages ?? {}
  const installed = JSON.parse(readFileSync(installedPath, 'utf8')).packages ?? {}
  for (const [path, pkg] of Object.entries(wanted)) {
    // The root entry is the project itself; optional packages for other platforms are never installed.
    if (path === '' || pkg.optional) continue
    if (installed[path]?.version !== pkg.version)
      return `${path.replace(/^node_modules\//, '')} ${pkg.version} is not installed`
  }
  return undefined
}

const reason = staleReason()
if (reason) {
  console.log(`Installing dependencies from package-lock.json (${reason})…`)
  // --include=dev: the build and tests need dev dependencies even where NODE_ENV=production.
  const result = spawnSync('npm', ['ci', '--include=dev', '--no-audit', '--no-fund'], {
    cwd: root,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  })
  if (result.status !== 0) process.exit(result.status ?? 1)
}
