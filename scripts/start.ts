/**
 * `npm start`: builds the content, publishes it to the local KV, and serves the Worker on
 * 127.0.0.1 (PORT, default 8787) with wrangler dev, offline: no account, no network.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { publishSite } from '../src/site/publish'
import { offlineEnv, openStore } from './publish'
import { buildToDist } from './site-build'

const root = fileURLToPath(new URL('..', import.meta.url))
const port = process.env.PORT ?? '8787'

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

const child = spawn('npx', ['wrangler', 'dev', '--ip', '127.0.0.1', '--port', port], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, ...offlineEnv },
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal))
child.on('exit', (code) => process.exit(code ?? 0))
console.log(`\nReading at http://127.0.0.1:${port}/back-pain/back-exercises/spine-exercises\n`)
