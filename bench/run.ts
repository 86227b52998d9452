/**
 * `npm run bench`: the figures of the readers' site and of signups, printed as tables.
 *
 * One `wrangler dev` (one workerd) serves the Worker with its local KV and D1 and, as a Workers
 * static asset, the very bytes of the essay page. autocannon loads it over loopback:
 * - the essay from KV against the same bytes as a static asset (target: ratio >= 0.9),
 * - POST /api/subscribe with new addresses, each from its own client IP, through wrangler dev and
 *   then on workerd without the dev proxy (bench/direct.ts) (target: >= 500/s, p99 < 50 ms), both
 *   as fast as 16 connections go and at a steady 500/s, open loop (bench/steady.ts).
 */
import { spawn } from 'node:child_process'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { brotliCompressSync, gzipSync } from 'node:zlib'
import autocannon from 'autocannon'
import type { SiteBuild } from '../src/site/publish'
import { startDirect } from './direct'
import { record } from './figures'
import { ESSAY, prepareState, root, startWorker } from './lib'
import { type SteadyFigures, steady } from './steady'

const STATIC = '/static-baseline/essay'
const port = Number(process.env.BENCH_PORT ?? 8788)
const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32)
// Signups go through D1, the MAIL queue and its consumer (the local outbox), all in this workerd.
const state = join(root, 'tmp/bench-state')
const assets = join(root, 'tmp/bench-assets')

type Figures = { rps: number; p50: number; p99: number; failed: number }

/** Fresh local state, and the essay's bytes as a static asset beside it. */
async function prepare(): Promise<{ essay: string; consent: string; site: SiteBuild }> {
  const build = await prepareState(state)
  const essay = build.files.find((f) => f.path === ESSAY)?.body
  if (!essay) throw new Error('the essay is missing from the build')
  await rm(assets, { recursive: true, force: true })
  await mkdir(join(assets, 'static-baseline'), { recursive: true })
  await writeFile(join(assets, `${STATIC}.html`), essay)
  return { essay, consent: build.settings.courses['cure-back-pain-program']?.consent ?? '', site: build }
}

async function load(options: autocannon.Options, expect = 200): Promise<Figures> {
  const r = await autocannon({ connections, pipelining: 1, ...options })
  const matching = r.statusCodeStats?.[`${expect}`]?.count ?? 0
  // Answers other than the expected one are reported, not hidden: a figure with failures is no figure.
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    failed: r.requests.total - matching + r.errors,
  }
}

const mean = (xs: Figures[]): Figures => ({
  rps: xs.reduce((n, x) => n + x.rps, 0) / xs.length,
  p50: xs.reduce((n, x) => n + x.p50, 0) / xs.length,
  p99: xs.reduce((n, x) => n + x.p99, 0) / xs.length,
  failed: xs.reduce((n, x) => n + x.failed, 0),
})

/** The essay from KV against the static asset, interleaved so both see the same machine. */
async function pages(): Promise<{ page: Figures; asset: Figures }> {
  const at = (path: string, duration: number) => load({ url: `http://127.0.0.1:${port}${path}`, duration })
  await at(ESSAY, 2)
  await at(STATIC, 2)
  const page: Figures[] = []
  const asset: Figures[] = []
  for (let i = 0; i < 2; i++) {
    page.push(await at(ESSAY, seconds / 2))
    asset.push(await at(STATIC, seconds / 2))
  }
  return { page: mean(page), asset: mean(asset) }
}

let signupNumber = 0

/** One new signup as JSON: a new address from a new client IP (the rate limit is per IP). */
function signupRequest(consent: string) {
  signupNumber += 1
  const n = signupNumber
  return {
    method: 'POST' as const,
    headers: {
      'content-type': 'application/json',
      'cf-connecting-ip': `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
    },
    body: JSON.stringify({ email: `reader${n}@bench.example`, consent, source: 'bench' }),
  }
}

/** New signups from 16 connections, each sending the next as soon as the last is answered. */
function signups(origin: string, consent: string): Promise<Figures> {
  return load(
    {
      url: `${origin}/api/subscribe`,
      duration: seconds,
      connections: 16,
      requests: [{ method: 'POST', setupRequest: (req) => ({ ...req, ...signupRequest(consent) }) }],
    },
    202,
  )
}

/** New signups at a steady rate, open loop: latency counts from when each was due. */
const steadySignups = (origin: string, consent: string, rate: number, secs = seconds): Promise<SteadyFigures> =>
  steady({ url: `${origin}/api/subscribe`, rate, seconds: secs, expect: 202, make: () => signupRequest(consent) })

/**
 * The Resend-speaking server in a process of its own, so that answering the Worker's sends does
 * not take the event loop that times the requests.
 */
async function startResendProcess(resendPort: number) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'test/support/resend-server.ts'), '--port', `${resendPort}`],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()))
    child.once('exit', (code) => reject(new Error(`the Resend server exited (${code})`)))
  })
  return { url, close: () => void child.kill() }
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`
const row = (f: Figures) => ({ 'req/s': Math.round(f.rps), 'p50 ms': f.p50, 'p99 ms': f.p99, failed: f.failed })

const { essay, consent, site } = await prepare()
const dev = await startWorker(port, state, {}, ['--assets', assets])
let page: Figures
let asset: Figures
let devSignups: Figures
try {
  ;({ page, asset } = await pages())
  devSignups = await signups(`http://127.0.0.1:${port}`, consent)
} finally {
  dev.stop()
}
// The same Worker and bindings on workerd without wrangler dev's proxy, as production runs it, and
// mailing through the resend SDK to a local Resend-speaking server, as production mails through
// Resend (the D1 outbox of local runs writes every email's HTML into the same database).
const resend = await startResendProcess(port + 3)
let signupMax: Figures
let signup: SteadyFigures
try {
  const direct = await startDirect(join(root, 'tmp/bench-direct'), port + 2, site, {
    ENVIRONMENT: 'local',
    SIGNING_KEY: 'bench-signing-key-not-a-secret',
    PUBLIC_URL: `http://127.0.0.1:${port + 2}`,
    RESEND_API_KEY: 're_local_bench',
    RESEND_BASE_URL: resend.url,
  })
  try {
    await steadySignups(direct.origin, consent, 200, 5) // warm up
    signup = await steadySignups(direct.origin, consent, 500)
    signupMax = await signups(direct.origin, consent)
  } finally {
    await direct.stop()
  }
} finally {
  resend.close()
}
console.table({
  'essay from KV (Worker), wrangler dev': row(page),
  'same bytes, static asset, wrangler dev': row(asset),
  'signups as fast as they go, wrangler dev': row(devSignups),
  'signups as fast as they go, workerd': row(signupMax),
})
console.table({
  'signups at a steady 500/s, open loop, workerd': {
    'req/s': Math.round(signup.rps),
    'p50 ms': signup.p50,
    'p99 ms': signup.p99,
    'max ms': signup.max,
    failed: signup.failed,
    'generator lag ms': signup.lag,
  },
})
if (signup.failed > 0) console.log('steady signups that failed, by status or error:', signup.failures)
const ratio = page.rps / asset.rps
const blocking = (essay.match(/<link[^>]+rel="stylesheet"|<script(?![^>]*\b(defer|async)\b)[^>]*\ssrc=/g) ?? []).length
const gz = gzipSync(essay).length
const br = brotliCompressSync(essay).length
console.table({
  'page throughput, KV / static': { value: ratio.toFixed(2), target: '>= 0.90', ok: ratio >= 0.9 },
  'signups per second (workerd)': {
    value: Math.round(signupMax.rps),
    target: '>= 500, none failed',
    ok: signupMax.rps >= 500 && signupMax.failed === 0,
  },
  'signup p99 at a steady 500/s (workerd)': { value: `${signup.p99} ms`, target: '< 50 ms', ok: signup.p99 < 50 },
  'essay page, raw': { value: kb(Buffer.byteLength(essay)), target: '', ok: true },
  'essay page, gzip': { value: kb(gz), target: '<= 14 KB', ok: gz <= 14 * 1024 },
  'essay page, brotli': { value: kb(br), target: '<= 14 KB', ok: br <= 14 * 1024 },
  'render-blocking requests': { value: blocking, target: '0', ok: blocking === 0 },
})
await record('site', {
  pageRps: page.rps,
  pageP99: page.p99,
  assetRps: asset.rps,
  assetP99: asset.p99,
  gzipBytes: gz,
  brotliBytes: br,
  blocking,
  signupRps: signupMax.rps,
  signupP99: signupMax.p99,
  signupFailed: signupMax.failed,
  signupP50At500: signup.p50,
  signupP99At500: signup.p99,
  devSignupRps: devSignups.rps,
})
console.log(
  `pages: ${connections} connections; signups: 16; ${seconds} s per measurement; loopback; ${process.platform} ${process.arch}`,
)
