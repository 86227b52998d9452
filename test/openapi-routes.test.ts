import { beforeAll, describe, expect, inject, it } from 'vitest'
import { freshApp, get, publish } from './helpers'

// The document is built with the site and served from KV, like any published file.
beforeAll(async () => {
  await publish(inject('siteBuild'))
})

describe('GET /api/openapi.json', () => {
  it('lists every public route the Worker answers, with its method', async () => {
    const res = await get('/api/openapi.json')
    expect(res.headers.get('content-type')).toContain('application/json')
    const doc = (await res.json()) as {
      openapi: string
      paths: Record<string, Record<string, unknown>>
    }
    expect(doc.openapi).toBe('3.1.0')
    const routes = freshApp()
      .routes.filter((r) => r.method !== 'ALL' && !r.path.includes('*') && !r.path.startsWith('/dev/'))
      // The other methods of /api/subscribe only answer 405.
      .filter((r) => !(r.path === '/api/subscribe' && r.method !== 'POST'))
    expect(routes.length).toBeGreaterThan(10)
    for (const r of routes) {
      const path = r.path.replace(/:(\w+)/g, '{$1}')
      expect(doc.paths[path], `${r.method} ${r.path}`).toBeDefined()
      expect(doc.paths[path]?.[r.method.toLowerCase()], `${r.method} ${r.path}`).toBeDefined()
    }
  })
})
