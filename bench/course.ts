/**
 * `npm run bench` (second part): the course pipeline at scale. 100,000 active subscribers due in
 * local D1; one cron tick; the LESSONS queue's consumer sends every lesson 1 through the resend SDK
 * to a local Resend-speaking server (test/support/resend-server.ts). Prints the time from the tick
 * to the last accepted email, emails per second, and workerd CPU time per batch of 100.
 * Target: >= 1,000 emails/s (Resend's default allowance is about 200/s), so the pipeline is never
 * the bottleneck.
 */
import { join } from 'node:path'
import { startResendServer } from '../test/support/resend-server'
import { record } from './figures'
import { prepareState, root, startWorker, workerdCpuSeconds } from './lib'

const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 100_000)
const port = Number(process.env.BENCH_PORT ?? 8788) + 1
const state = join(root, 'tmp/bench-course-state')

/** Inserts `n` active subscribers whose lesson 1 is due at `dueAt`, 1,000 rows a statement batch. */
async function seed(db: D1Database, n: number, dueAt: number) {
  const insert = db.prepare(
    `INSERT INTO subscribers (id, email, email_normalized, course, status, timezone, next_send_at,
       consent_at, consent_text, created_at, confirmed_at, updated_at)
     VALUES (?1, ?2, ?2, 'cure-back-pain-program', 'active', 'America/New_York', ?3, ?3, 'bench', ?3, ?3, ?3)`,
  )
  for (let i = 0; i < n; i += 1000) {
    const rows = Array.from({ length: Math.min(1000, n - i) }, (_, k) =>
      insert.bind(crypto.randomUUID(), `r${i + k}@bench.example`, dueAt),
    )
    await db.batch(rows)
  }
}

const seeded = Date.now()
const started = performance.now()
await prepareState(state, (db) => seed(db, SUBSCRIBERS, seeded))
console.log(`seeded ${SUBSCRIBERS} subscribers in ${((performance.now() - started) / 1000).toFixed(1)} s`)
const resend = await startResendServer()
const worker = await startWorker(
  port,
  state,
  { RESEND_API_KEY: 're_local_bench', RESEND_BASE_URL: resend.url, MAIL_REQUESTS_PER_SECOND: '1000' },
  ['--test-scheduled'],
)
try {
  const pgid = worker.child.pid ?? 0
  const cpuBefore = workerdCpuSeconds(pgid)
  const tick = performance.now()
  const cron = await fetch(`http://127.0.0.1:${port}/cdn-cgi/handler/scheduled?cron=*/5+*+*+*+*&time=${Date.now()}`)
  if (!cron.ok) throw new Error(`the cron did not run: ${cron.status} ${await cron.text()}`)
  let last = 0
  for (let waited = 0; waited < 900_000; waited += 200) {
    const n = resend.stats().accepted
    if (n !== last) last = n
    if (n >= SUBSCRIBERS) break
    await new Promise((r) => setTimeout(r, 200))
  }
  const seconds = (performance.now() - tick) / 1000
  const cpu = workerdCpuSeconds(pgid) - cpuBefore
  const batches = Math.ceil(SUBSCRIBERS / 100)
  console.table({
    'subscribers due': { value: SUBSCRIBERS },
    'emails accepted by the Resend-speaking server': { value: last },
    'cron tick to last accepted email': { value: `${seconds.toFixed(1)} s` },
    'emails per second': { value: Math.round(last / seconds), target: '>= 1000', ok: last / seconds >= 1000 },
    'workerd CPU per batch of 100 (whole process: D1, queue, rendering)': {
      value: `${((cpu / batches) * 1000).toFixed(0)} ms`,
    },
  })
  await record('course', {
    subscribers: SUBSCRIBERS,
    seconds,
    emailsPerSecond: last / seconds,
    cpuMsPerBatch: (cpu / batches) * 1000,
  })
} finally {
  worker.stop()
  await resend.close()
}
