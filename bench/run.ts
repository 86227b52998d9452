/**
 * `npm run bench`: figures for the readers' site, printed as a table.
 *
 * One `wrangler dev` (one workerd) serves the Worker and, as a Workers static asset, the very bytes
 * of the essay page; autocannon loads both over loopback in turn. The KV-served page should reach
 * at least 0.9 of the static asset's throughput, and weigh at most 14 KB compressed.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, gzipSync } from 'node:zlib'
import autocannon from 'autocannon'
import { getPlatformProxy } from 'wrangler'
import { offlineEnv } from '../scripts/publish'
import { buildSite } from '../scripts/site-build'
import { kvStore, publishSite } from '../src/site/publish'

const root = fileURLToPath(new URL('..', import.meta.url))
const ESSAY = '/back-pain/back-exercises/spine-exercises'
const STATIC = '/static-baseline/essay.html'
const port = Number(process.env.BENCH_PORT ?? 8788)
const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32)
const config = join(root, 'bench/wrangler.toml')
const state = join(root, 'tmp/bench-state')

async function prepare(): Promise<string> {
  const { build } = await buildSite(join(root, 'content'))
  const essay = build.files.find((f) => f.path === ESSAY)
  if (!essay) throw new Error('the essay is missing from the build')
  await rm(join(root, 'tmp/bench-assets'), { recursive: true, force: true })
  await mkdir(join(root, 'tmp/bench-assets/static-baseline'), { recursive: true })
  await writeFile(join(root, 'tmp/bench-assets', STATIC), essay.body)
  Object.assign(process.env, offlineEnv)
  const proxy = await getPlatformProxy<Env>({
    configPath: config,
    persist: { path: join(state, 'v3') },
    remoteBindings: false,
  })
  try {
    await publishSite(kvStore(proxy.env.CONTENT), build, new Date())
  } finally {
    await proxy.dispose()
  }
  return essay.body
}

async function startWorker(): Promise<ChildProcess> {
  const child = spawn(
    'npx',
    [
      'wrangler',
      'dev',
      '-c',
      config,
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--persist-to',
      state,
      '--log-level',
      'error',
    ],
    { cwd: root, env: { ...process.env, ...offlineEnv }, stdio: 'ignore', detached: true },
  )
  for (let i = 0; i < 120; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}${ESSAY}`)).ok) return child
    } catch {}
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error('wrangler dev did not start within 60 s')
}

async function load(path: string, duration: number) {
  const result = await autocannon({ url: `http://127.0.0.1:${port}${path}`, connections, duration, pipelining: 1 })
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${path}: ${result.non2xx} non-2xx, ${result.errors} errors`)
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 }
}

const body = await prepare()
const worker = await startWorker()
try {
  // Warm both paths (isolate, KV cache, JIT) before measuring; then measure each twice, interleaved.
  await load(ESSAY, 2)
  await load(STATIC, 2)
  const kv = [await load(ESSAY, seconds / 2), await load(STATIC, seconds / 2), await load(ESSAY, seconds / 2)]
  const st = [kv.splice(1, 1)[0], await load(STATIC, seconds / 2)]
  const mean = (xs: { rps: number; p50: number; p99: number }[]) => ({
    rps: xs.reduce((n, x) => n + x.rps, 0) / xs.length,
    p50: xs.reduce((n, x) => n + x.p50, 0) / xs.length,
    p99: xs.reduce((n, x) => n + x.p99, 0) / xs.length,
  })
  const page = mean(kv)
  const asset = mean(st as typeof kv)
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`
  console.table({
    'essay from KV (Worker)': { 'req/s': Math.round(page.rps), 'p50 ms': page.p50, 'p99 ms': page.p99 },
    'same bytes, static asset': { 'req/s': Math.round(asset.rps), 'p50 ms': asset.p50, 'p99 ms': asset.p99 },
  })
  const ratio = page.rps / asset.rps
  const blocking = (body.match(/<link[^>]+rel="stylesheet"|<script[^>]+src=/g) ?? []).length
  console.table({
    'throughput ratio KV / static': { value: ratio.toFixed(2), target: '>= 0.90', ok: ratio >= 0.9 },
    'essay page, raw': { value: kb(Buffer.byteLength(body)), target: '', ok: true },
    'essay page, gzip': {
      value: kb(gzipSync(body).length),
      target: '<= 14 KB',
      ok: gzipSync(body).length <= 14 * 1024,
    },
    'essay page, brotli': {
      value: kb(brotliCompressSync(body).length),
      target: '<= 14 KB',
      ok: brotliCompressSync(body).length <= 14 * 1024,
    },
    'render-blocking requests': { value: blocking, target: '0', ok: blocking === 0 },
  })
  console.log(
    `${connections} connections, ${seconds} s measured per path, loopback, ${process.platform} ${process.arch}`,
  )
} finally {
  if (worker.pid) process.kill(-worker.pid, 'SIGTERM')
}
