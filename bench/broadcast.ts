/**
 * `npm run bench` (newsletter part): one broadcast to 100,000 newsletter members, sent now. The
 * admin API schedules it (its recipients taken in D1), dispatches at once, and the bulk queue's
 * consumer sends every email through the resend SDK to a local Resend-speaking server
 * (test/support/resend-server.ts). Prints the time from the POST to the last accepted email,
 * emails per second, and workerd CPU time per batch of 100. Target: >= 1,000 emails/s.
 */
import { join } from 'node:path'
import { startResendServer } from '../test/support/resend-server'
import { record } from './figures'
import { prepareState, root, startWorker, workerdCpuSeconds } from './lib'

const MEMBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 100_000)
const port = Number(process.env.BENCH_PORT ?? 8788) + 2
const state = join(root, 'tmp/bench-broadcast-state')
const TOKEN = 'bench-admin-token-not-a-secret-0123456789'
/** A letter of the real content, published by every build. */
const LETTER = '/letters/welcome'

/** Inserts `n` newsletter members who finished the course (so no lesson competes), 1,000 a batch. */
async function seed(db: D1Database, n: number, at: number) {
  const insert = db.prepare(
    `INSERT INTO subscribers (id, email, email_normalized, course, status, timezone, lesson_position,
       consent_at, consent_text, created_at, confirmed_at, updated_at, newsletter, newsletter_joined_at)
     VALUES (?1, ?2, ?2, 'cure-back-pain-program', 'completed', 'Europe/Berlin', 5, ?3, 'bench', ?3, ?3, ?3, 'active', ?3)`,
  )
  for (let i = 0; i < n; i += 1000) {
    const rows = Array.from({ length: Math.min(1000, n - i) }, (_, k) =>
      insert.bind(crypto.randomUUID(), `m${i + k}@bench.example`, at),
    )
    await db.batch(rows)
  }
}

const started = performance.now()
await prepareState(state, (db) => seed(db, MEMBERS, Date.now()))
console.log(`seeded ${MEMBERS} newsletter members in ${((performance.now() - started) / 1000).toFixed(1)} s`)
const resend = await startResendServer()
const worker = await startWorker(port, state, {
  RESEND_API_KEY: 're_local_bench',
  RESEND_BASE_URL: resend.url,
  MAIL_REQUESTS_PER_SECOND: '1000',
  ADMIN_TOKEN: TOKEN,
})
try {
  const pgid = worker.child.pid ?? 0
  const cpuBefore = workerdCpuSeconds(pgid)
  const sent = performance.now()
  const res = await fetch(`http://127.0.0.1:${port}/api/admin/broadcasts`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ path: LETTER, send: 'now' }),
  })
  if (res.status !== 201) throw new Error(`the broadcast was not scheduled: ${res.status} ${await res.text()}`)
  const answered = (performance.now() - sent) / 1000
  const { id, recipients } = (await res.json()) as { id: string; recipients: number }
  let last = 0
  for (let waited = 0; waited < 900_000; waited += 200) {
    last = resend.stats().accepted
    if (last >= MEMBERS) break
    await new Promise((r) => setTimeout(r, 200))
  }
  const seconds = (performance.now() - sent) / 1000
  const cpu = workerdCpuSeconds(pgid) - cpuBefore
  const batches = Math.ceil(MEMBERS / 100)
  const progress = (await (
    await fetch(`http://127.0.0.1:${port}/api/admin/broadcasts/${id}`, {
      headers: { Authorization: `Bearer ${TOKEN}` },
    })
  ).json()) as Record<string, unknown>
  console.table({
    'newsletter members': { value: MEMBERS },
    'recipients taken': { value: recipients },
    'POST answered (recipients taken) in': { value: `${answered.toFixed(1)} s` },
    'emails accepted by the Resend-speaking server': { value: last },
    'POST to last accepted email': { value: `${seconds.toFixed(1)} s` },
    'emails per second': { value: Math.round(last / seconds), target: '>= 1000', ok: last / seconds >= 1000 },
    'workerd CPU per batch of 100 (whole process: D1, queue, rendering)': {
      value: `${((cpu / batches) * 1000).toFixed(0)} ms`,
    },
    'broadcast status, sent': { value: `${progress.status}, ${progress.sent}` },
  })
  await record('broadcast', {
    members: MEMBERS,
    answeredSeconds: answered,
    seconds,
    emailsPerSecond: last / seconds,
    cpuMsPerBatch: (cpu / batches) * 1000,
  })
} finally {
  worker.stop()
  await resend.close()
}
