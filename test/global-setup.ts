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
  }
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
