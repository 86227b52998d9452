import { cp, mkdtemp, rm } from 'node:fs/promises'
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
  project.provide('siteBuild', (await buildSite(join(root, 'content'))).build)
  const dir = await mkdtemp(join(tmpdir(), 'content-'))
  try {
    await cp(join(root, 'content'), dir, { recursive: true })
    await cp(join(root, 'test/fixtures/second-essay'), dir, { recursive: true })
    project.provide('secondEssayBuild', (await buildSite(dir)).build)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  return () => resend.close()
}
