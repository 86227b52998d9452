/**
 * The Worker as Cloudflare would receive it: its size as `wrangler deploy --dry-run` reports it (raw
 * and gzip, minified as wrangler.toml deploys it), and its startup CPU as `wrangler check startup`
 * profiles it (the CPU its samples saw in the Worker's own script; see workerMs). Startup is sampled
 * about once a millisecond, so the profile is taken five times and the median and range printed.
 */
import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { offlineEnv } from '../scripts/publish'
import { record } from './figures'
import { root } from './lib'

const RUNS = Number(process.env.BENCH_STARTUP_RUNS || 5)
const env = { ...process.env, ...offlineEnv }
const wrangler = (args: string[]) =>
  execFileSync('npx', ['wrangler', ...args], { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

/** A V8 CPU profile, as Chrome DevTools reads it. */
interface CpuProfile {
  nodes: { id: number; children?: number[]; callFrame: { functionName: string; url: string; scriptId: string } }[]
  samples: number[]
  timeDeltas: number[]
}

/**
 * Milliseconds of CPU the profile's samples saw in the Worker's own script. Samples come about once
 * a millisecond; the first one after the profiler starts carries the whole gap since (tens of ms,
 * the same for a hello-world Worker), so a gap longer than twice the sampling interval counts as
 * one interval, not as CPU. Samples in the harness that loads the Worker, or idle, do not count.
 */
function workerMs(p: CpuProfile): number {
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const harness = new Set(
    p.nodes.filter((n) => ['startup', 'fetch'].includes(n.callFrame.functionName)).map((n) => n.callFrame.scriptId),
  )
  const inWorker = (id: number | undefined): boolean => {
    for (let x = id; x !== undefined; x = parent.get(x)) {
      const frame = byId.get(x)?.callFrame
      if (frame?.url && !harness.has(frame.scriptId)) return true
    }
    return false
  }
  const short = p.timeDeltas.filter((d) => d < 3000).sort((a, b) => a - b)
  const interval = (short[Math.floor(short.length / 2)] ?? 1200) / 1000
  return p.samples.reduce(
    (ms, s, i) => ms + (inWorker(s) ? Math.min((p.timeDeltas[i] ?? 0) / 1000, 2 * interval) : 0),
    0,
  )
}

const dir = await mkdtemp(join(tmpdir(), 'bench-bundle-'))
try {
  const out = wrangler(['deploy', '--dry-run', '--outdir', join(dir, 'dist')])
  const size = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(out)
  if (!size) throw new Error(`wrangler deploy --dry-run printed no size:\n${out}`)
  const rawKiB = Number(size[1])
  const gzipKiB = Number(size[2])

  const startup: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const file = join(dir, `startup-${i}.cpuprofile`)
    wrangler(['check', 'startup', '--outfile', file])
    startup.push(workerMs(JSON.parse(await readFile(file, 'utf8')) as CpuProfile))
  }
  startup.sort((a, b) => a - b)
  const median = startup[Math.floor(startup.length / 2)] ?? 0
  console.table({
    'bundle, raw KiB': { value: rawKiB },
    'bundle, gzip KiB': { value: gzipKiB, target: '<= 100', ok: gzipKiB <= 100 },
    [`startup CPU ms, median of ${RUNS}`]: { value: median.toFixed(1), target: '<= 10', ok: median <= 10 },
    'startup CPU ms, range': { value: `${startup[0]?.toFixed(1)} to ${startup.at(-1)?.toFixed(1)}` },
  })
  await record('bundle', {
    rawKiB,
    gzipKiB,
    startupMs: median,
    startupMinMs: startup[0] ?? 0,
    startupMaxMs: startup.at(-1) ?? 0,
  })
} finally {
  await rm(dir, { recursive: true, force: true })
}
