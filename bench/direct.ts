/**
 * The Worker straight on workerd through Miniflare, with the bindings of wrangler.toml and a
 * persisted local state, but without `wrangler dev`'s development proxy in front of it (which
 * production does not have either). Used for the signup figures.
 */
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { readD1Migrations } from '@cloudflare/vitest-pool-workers'
import { build, type Plugin } from 'esbuild'
import { Miniflare } from 'miniflare'
import { unstable_getMiniflareWorkerOptions } from 'wrangler'
import { kvStore, publishSite, type SiteBuild } from '../src/site/publish'
import { root } from './lib'

/**
 * Optional modules the libraries load with a dynamic import but this Worker never does (resend's
 * React renderer, the converters of validation libraries other than valibot): wrangler leaves such
 * an import to fail if it ever ran, but Miniflare refuses a bundle that names a module it cannot
 * find, so each one that does not resolve becomes bench/absent-module.js.
 */
const absentOptionalModules: Plugin = {
  name: 'absent-optional-modules',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.kind !== 'dynamic-import' || args.pluginData === 'probe') return undefined
      const found = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'probe' })
      return found.errors.length > 0 ? { path: join(root, 'bench/absent-module.js') } : undefined
    })
  },
}

/** Bundles src/index.ts as wrangler would. */
async function bundle(outfile: string) {
  await build({
    entryPoints: [join(root, 'src/index.ts')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    jsx: 'automatic',
    jsxImportSource: 'hono/jsx',
    external: ['cloudflare:*', 'node:*'],
    // wrangler.toml's own alias, so the bundle is the one wrangler would deploy.
    alias: { 'postal-mime': join(root, 'src/mail/no-inbound-parsing.ts') },
    plugins: [absentOptionalModules],
    logLevel: 'error',
  })
}

/** Starts the Worker on workerd with a fresh state in `dir`, migrated and published. */
export async function startDirect(dir: string, port: number, site: SiteBuild, vars: Record<string, string>) {
  await rm(dir, { recursive: true, force: true })
  const script = join(dir, 'worker.js')
  await bundle(script)
  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(root, 'wrangler.toml'))
  // wrangler.toml's vars, without the secrets a developer keeps in .dev.vars (outbound webhooks,
  // Turnstile, a provider key…): a bench measures the same Worker whatever that file holds.
  const secrets = [...(await readFile(join(root, '.dev.vars.example'), 'utf8')).matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)]
  const own = Object.entries((workerOptions as { bindings?: Record<string, unknown> }).bindings ?? {}).filter(
    ([key]) => !secrets.some((m) => m[1] === key),
  )
  const mf = new Miniflare({
    ...(workerOptions as object),
    scriptPath: script,
    modules: true,
    bindings: { ...Object.fromEntries(own), ...vars },
    host: '127.0.0.1',
    port,
    d1Persist: join(dir, 'd1'),
    kvPersist: join(dir, 'kv'),
  } as ConstructorParameters<typeof Miniflare>[0])
  const url = await mf.ready
  const db = await mf.getD1Database('DB')
  for (const m of await readD1Migrations(join(root, 'migrations'))) for (const q of m.queries) await db.prepare(q).run()
  await publishSite(kvStore((await mf.getKVNamespace('CONTENT')) as unknown as KVNamespace), site, new Date())
  // The Miniflare instance too, for a bench that fires the cron (`getWorker().scheduled`) or reads D1.
  return { origin: url.origin, mf, stop: () => mf.dispose() }
}
