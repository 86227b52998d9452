import { describe, expect, it } from 'vitest'
import { freshApp, get } from './helpers'

describe('GET /api/openapi.json', () => {
  it('lists every public route the Worker answers, with its method', async () => {
    const doc = (await (await get('/api/openapi.json')).json()) as {
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
