/**
 * Load at a steady rate, open loop: request i is due at start + i / rate, evenly spaced, whether
 * or not earlier ones have answered, and its latency runs from when it was due to its last byte.
 *
 * autocannon's `overallRate` is not this: each connection fires its whole quota for the second
 * back to back when the second starts, then idles, and the latencies are padded with synthetic
 * values (coordinated-omission correction at a 1 ms interval). Measured that way a route that
 * answers in 2 ms with no I/O showed a p99 of 90 ms at "500/s".
 */
import { Agent, request } from 'node:http'

export interface SteadyOptions {
  url: string
  /** Requests per second, evenly spaced. */
  rate: number
  seconds: number
  /** The method, headers and body of request number n (from 1). */
  make: (n: number) => { method: string; headers: Record<string, string>; body: string }
  /** The status that counts as success; anything else, or a socket error, is a failure. */
  expect: number
}

export interface SteadyFigures {
  rps: number
  p50: number
  p99: number
  max: number
  failed: number
  /** Why, by status code or socket error code. */
  failures: Record<string, number>
  /** How far behind schedule the generator itself fell at worst, ms: large means it, not the server, was the limit. */
  lag: number
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0)

export async function steady(options: SteadyOptions): Promise<SteadyFigures> {
  const { url, rate, seconds, make, expect } = options
  const agent = new Agent({ keepAlive: true, maxSockets: 256 })
  const total = Math.round(rate * seconds)
  const interval = 1000 / rate
  const latencies: number[] = []
  let failed = 0
  const failures: Record<string, number> = {}
  const fail = (why: string) => {
    failed += 1
    failures[why] = (failures[why] ?? 0) + 1
  }
  let lag = 0
  const inFlight: Promise<void>[] = []
  const fire = (n: number, due: number) =>
    new Promise<void>((resolve) => {
      const { method, headers, body } = make(n)
      const req = request(url, { method, headers: { ...headers, 'content-length': Buffer.byteLength(body) }, agent })
      req.on('response', (res) => {
        res.resume()
        res.on('end', () => {
          latencies.push(performance.now() - due)
          if (res.statusCode !== expect) fail(String(res.statusCode))
          resolve()
        })
      })
      req.on('error', (err: NodeJS.ErrnoException) => {
        fail(err.code ?? err.message)
        resolve()
      })
      req.end(body)
    })
  const start = performance.now() + 50
  let next = 0
  while (next < total) {
    const now = performance.now()
    // Fire every request that is due; a timer that woke late sends the overdue ones at once,
    // and their lateness counts in their latency.
    while (next < total && start + next * interval <= now) {
      const due = start + next * interval
      lag = Math.max(lag, now - due)
      next += 1
      inFlight.push(fire(next, due))
    }
    await new Promise((r) => setTimeout(r, Math.max(0, start + next * interval - performance.now())))
  }
  await Promise.all(inFlight)
  agent.destroy()
  const elapsed = (performance.now() - start) / 1000
  latencies.sort((a, b) => a - b)
  const round = (x: number) => Math.round(x * 10) / 10
  return {
    rps: (total - failed) / elapsed,
    p50: round(percentile(latencies, 50)),
    p99: round(percentile(latencies, 99)),
    max: round(latencies.at(-1) ?? 0),
    failed,
    failures,
    lag: round(lag),
  }
}
