import { cp, mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TestProject } from 'vitest/node'
import { buildSite } from '../scripts/site-build'
import type { SiteBuild } from '../src/site/publish'
import { startResendServer } from './support/resend-server'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The site built from content/. */
    siteBuild: SiteBuild
    /** The site built from content/ plus test/fixtures/second-essay. */
    secondEssayBuild: SiteBuild
    /** Base URL of a local server that speaks Resend's API (see test/support/resend-server.ts). */
    resendUrl: string
    /** A local stand-in for Turnstile's siteverify: secret `turnstile-test-secret`, token `pass`. */
    turnstileUrl: string
    /** A local endpoint that records the Worker's outbound webhooks (see startHookReceiver). */
    hookUrl: string
  }
}

const root = fileURLToPath(new URL('..', import.meta.url))

/**
 * Once for every test file, in Node: builds the real content and a copy with a second essay, and
 * starts a local Resend-speaking server.
 */
export default async function setup(project: TestProject) {
  const resend = await startResendServer()
  project.provide('resendUrl', resend.url)
  const turnstile = await startSiteverify()
  project.provide('turnstileUrl', turnstile.url)
  const hooks = await startHookReceiver()
  project.provide('hookUrl', hooks.url)
  project.provide('siteBuild', (await buildSite(join(root, 'content'))).build)
  const dir = await mkdtemp(join(tmpdir(), 'content-'))
  try {
    await cp(join(root, 'content'), dir, { recursive: true })
    await cp(join(root, 'test/fixtures/second-essay'), dir, { recursive: true })
    project.provide('secondEssayBuild', (await buildSite(dir)).build)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  return async () => {
    await resend.close()
    await turnstile.close()
    await hooks.close()
  }
}

/**
 * A marketer's webhook endpoint: POST /hook records what arrives (failing the next N calls with 500
 * after POST /__fail?count=N); GET /__received lists it.
 */
async function startHookReceiver(): Promise<{ url: string; close: () => Promise<void> }> {
  const received: { headers: Record<string, string>; body: string }[] = []
  let failNext = 0
  const server = createServer(async (req, res) => {
    let body = ''
    for await (const chunk of req) body += chunk
    const url = new URL(req.url ?? '/', 'http://x')
    if (req.method === 'POST' && url.pathname === '/hook') {
      if (failNext > 0) {
        failNext -= 1
        res.writeHead(500).end()
        return
      }
      const h = req.headers
      received.push({
        headers: {
          id: String(h['webhook-id']),
          timestamp: String(h['webhook-timestamp']),
          signature: String(h['webhook-signature']),
        },
        body,
      })
      res.writeHead(204).end()
    } else if (req.method === 'POST' && url.pathname === '/__fail') {
      failNext = Number(url.searchParams.get('count') ?? 1)
      res.writeHead(204).end()
    } else {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(received))
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

/** Answers like Cloudflare's siteverify: success only for the test secret and the token `pass`. */
async function startSiteverify(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer(async (req, res) => {
    let body = ''
    for await (const chunk of req) body += chunk
    const form = new URLSearchParams(body)
    const success = form.get('secret') === 'turnstile-test-secret' && form.get('response') === 'pass'
    res.writeHead(200, { 'Content-Type': 'application/json' })
    res.end(JSON.stringify({ success, 'error-codes': success ? [] : ['invalid-input-response'] }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/siteverify`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
