/**
 * The Worker as Cloudflare would receive it: its size as `wrangler deploy --dry-run` reports it (raw
 * and gzip, minified as wrangler.toml deploys it), and its startup CPU as `wrangler check startup`
 * profiles it. Startup is sampled about once a millisecond, so the profile is taken five times and
 * the range printed; the figure is the CPU the samples saw outside the idle state.
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
  nodes: { id: number; callFrame: { functionName: string } }[]
  samples: number[]
  timeDeltas: number[]
}

/** Milliseconds of CPU the profile's samples spent outside `(idle)`. */
function busyMs(p: CpuProfile): number {
  const idle = new Set(p.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id))
  return p.samples.reduce((ms, s, i) => ms + (idle.has(s) ? 0 : (p.timeDeltas[i] ?? 0) / 1000), 0)
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
    startup.push(busyMs(JSON.parse(await readFile(file, 'utf8')) as CpuProfile))
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
