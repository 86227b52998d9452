import { env } from 'cloudflare:workers'
import { createApp } from '../src/app'
import { kvStore, publishSite, type SiteBuild } from '../src/site/publish'

/** Publishes a build to the test's own (miniflare) CONTENT namespace. */
export const publish = (build: SiteBuild, at = new Date('2026-11-25T12:00:00Z'), kv: KVNamespace = env.CONTENT) =>
  publishSite(kvStore(kv), build, at)

/** An app that rereads the manifest on every request, so a test sees each publish at once. */
export const freshApp = () => createApp({ manifestTtlMs: 0, blobCacheBytes: 1 << 20 })

/** Requests a path from a fresh app against the test env (or another one). */
export const get = (path: string, init: RequestInit = {}, bindings: Env = env) =>
  freshApp().request(`http://localhost${path}`, init, bindings)

/**
 * Text of every element matching `selector`, whitespace folded, read with the runtime's own
 * HTMLRewriter (the same parser Cloudflare uses at the edge).
 */
export async function textsOf(html: string, selector: string): Promise<string[]> {
  const texts: string[] = []
  await new HTMLRewriter()
    .on(selector, {
      element() {
        texts.push('')
      },
      text(t) {
        texts[texts.length - 1] += t.text
      },
    })
    .transform(new Response(html))
    .text()
  return texts.map(fold)
}

/** Every value of `attribute` on elements matching `selector`. */
export async function attrsOf(html: string, selector: string, attribute: string): Promise<string[]> {
  const values: string[] = []
  await new HTMLRewriter()
    .on(selector, {
      element(e) {
        const v = e.getAttribute(attribute)
        if (v !== null) values.push(v)
      },
    })
    .transform(new Response(html))
    .text()
  return values
}

/** Folds runs of whitespace (no-break spaces too) to one space and decodes the entities pages use. */
export const fold = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/[\s\u00a0]+/g, ' ')
    .trim()
