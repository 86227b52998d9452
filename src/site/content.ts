import { ApiError } from '../lib/errors'
import type { EmailTemplate } from './manifest'
import { blobCache, type Manifest, type ManifestEmail, manifestCache } from './manifest'

/** How long the isolate trusts its copy of the manifest, and how many blob bytes it keeps. */
export interface ContentOptions {
  manifestTtlMs: number
  blobCacheBytes: number
}

/** The published content as every feature reads it: manifest, blobs, compiled emails. */
export interface SiteContent {
  /** The live manifest; a 503 when nothing is published or KV cannot be reached. */
  manifest(kv: KVNamespace): Promise<Manifest>
  /** One blob; a 503 when KV cannot be reached or the blob is missing. */
  blob(kv: KVNamespace, hash: string): Promise<ArrayBuffer>
  /** One compiled email of the live manifest, ready for its placeholders. */
  email(kv: KVNamespace, manifest: Manifest, name: string): Promise<EmailTemplate>
  /** Any compiled email the manifest names (a broadcast's, say), ready for its placeholders. */
  template(kv: KVNamespace, entry: ManifestEmail): Promise<EmailTemplate>
  /** Lesson `n` (from 1) of a course; undefined when the course has no such lesson. */
  lesson(kv: KVNamespace, manifest: Manifest, course: string, n: number): Promise<EmailTemplate | undefined>
}

/** A 503 that says what a reader can do; `why` goes to the log, not to the reader. */
export const unavailable = (why: string, cause?: unknown) =>
  new ApiError(503, 'The site is being published or its storage is unreachable. Please try again in a minute.', {
    headers: { 'Retry-After': '30' },
    cause: cause === undefined ? why : new Error(why, { cause }),
  })

/** Reads published content through the isolate's caches (one set per app instance). */
export function siteContent(options: ContentOptions): SiteContent {
  const getManifest = manifestCache(options.manifestTtlMs)
  const getBlob = blobCache(options.blobCacheBytes)
  const blob = async (kv: KVNamespace, hash: string) => {
    let body: ArrayBuffer | undefined
    try {
      body = await getBlob(kv, hash)
    } catch (err) {
      throw unavailable('storage', err)
    }
    if (!body) throw unavailable('missing-blob')
    return body
  }
  const decoder = new TextDecoder()
  const template = async (kv: KVNamespace, e: ManifestEmail): Promise<EmailTemplate> => {
    const [html, text] = await Promise.all([blob(kv, e.html.hash), blob(kv, e.text.hash)])
    return { subject: e.subject, html: decoder.decode(html), text: decoder.decode(text) }
  }
  return {
    async manifest(kv) {
      let manifest: Manifest | undefined
      try {
        manifest = await getManifest(kv)
      } catch (err) {
        throw unavailable('storage', err)
      }
      if (!manifest) throw unavailable('unpublished')
      return manifest
    },
    blob,
    template,
    async email(kv, manifest, name) {
      const entry = manifest.emails[name]
      if (!entry) throw unavailable(`email ${name} is not published`)
      return template(kv, entry)
    },
    async lesson(kv, manifest, course, n) {
      const entry = manifest.courses[course]?.lessons[n - 1]
      return entry ? template(kv, entry) : undefined
    },
  }
}
