import type { PublishedSettings } from '../ui/types'

/** A compiled email: placeholders such as `{{confirm_url}}` are filled per subscriber at send time. */
export interface EmailTemplate {
  subject: string
  html: string
  text: string
}

/** A compiled email in the manifest: its subject inline, its two parts as blobs. */
export interface ManifestEmail {
  subject: string
  html: ManifestEntry
  text: ManifestEntry
}

/** One published file: the blob that holds it and how to serve it. */
export interface ManifestEntry {
  /** SHA-256 of the body, hex; the blob's key and the response's ETag. */
  hash: string
  contentType: string
  /** The page loads our own script (it has a signup form), so its CSP allows `script-src 'self'`. */
  scripts?: boolean
}

/**
 * The one key readers go through: which blob serves which path. Publishing writes every blob first,
 * then this, so readers switch versions at once and never see half of one.
 */
export interface Manifest {
  version: 1
  /** Hash of this manifest's routes; names its archived copy. */
  id: string
  publishedAt: string
  /** The manifest this one replaced, for rollback. */
  previous?: string
  /** CSP source for the inline stylesheet, e.g. `'sha256-…'`. */
  styleSrc: string
  routes: Record<string, ManifestEntry>
  notFound: ManifestEntry
  emails: Record<string, ManifestEmail>
  /** Each course's lessons, in order: lesson n is `lessons[n - 1]`. */
  courses: Record<string, { lessons: ManifestLesson[] }>
  /** The newsletter's emails: each essay (unless `newsletter: false`) and letter, by path. */
  broadcasts?: Record<string, ManifestBroadcast>
  /** Where each tracked link of the emails leads (a site path with its UTM tags), by its id. */
  links?: Record<string, string>
  settings: PublishedSettings
}

/** What the newsletter knows of an essay or letter besides its email. */
export interface BroadcastInfo {
  kind: 'essay' | 'letter'
  title: string
  description: string
  /** YYYY-MM-DD; a letter's is its build's. */
  published: string
}

/** One essay or letter as the newsletter sends it. */
export interface ManifestBroadcast extends ManifestEmail, BroadcastInfo {}

/** A lesson: its email, its title, and the essay section it can be read at on the web. */
export interface ManifestLesson extends ManifestEmail {
  title: string
  webPath: string
}

/** KV keys, under a versioned prefix so that a future layout can live beside this one. */
export const keys = {
  manifest: 'v1:manifest',
  archivedManifest: (id: string) => `v1:manifest:${id}`,
  blob: (hash: string) => `v1:blob:${hash}`,
  blobPrefix: 'v1:blob:',
} as const

/** How long a blob may sit in the edge cache: blobs never change, their key is their hash. */
const BLOB_CACHE_TTL_SECONDS = 86_400

/** Reads the current manifest from KV; undefined when nothing has been published. */
export async function readManifest(kv: KVNamespace): Promise<Manifest | undefined> {
  const json = await kv.get(keys.manifest)
  // Every object is read without a prototype: a course, page or email named by a request
  // ("constructor", "__proto__") is then simply absent instead of Object's own members.
  return json === null ? undefined : (JSON.parse(json, (_, value) => withoutPrototype(value)) as Manifest)
}

const withoutPrototype = (value: unknown) =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? Object.assign(Object.create(null) as object, value)
    : value

/** Reads one published blob out of KV; undefined if it is missing. */
export async function readBlob(kv: KVNamespace, hash: string): Promise<ArrayBuffer | undefined> {
  return (await kv.get(keys.blob(hash), { type: 'arrayBuffer', cacheTtl: BLOB_CACHE_TTL_SECONDS })) ?? undefined
}

/**
 * Keeps the most recently served blobs in the isolate, up to `maxBytes`. Blobs are immutable
 * (their key is their hash), so a hit can never be stale: a hot page costs no KV read at all.
 */
export function blobCache(maxBytes: number) {
  const entries = new Map<string, ArrayBuffer>()
  // Concurrent misses of one blob share one read, so it is counted (and stored) once.
  const reading = new Map<string, Promise<ArrayBuffer | undefined>>()
  let bytes = 0
  const fill = async (kv: KVNamespace, hash: string) => {
    const body = await readBlob(kv, hash)
    if (!body || body.byteLength > maxBytes || entries.has(hash)) return body
    entries.set(hash, body)
    bytes += body.byteLength
    for (const [oldest, old] of entries) {
      if (bytes <= maxBytes) break
      entries.delete(oldest)
      bytes -= old.byteLength
    }
    return body
  }
  return async function getBlob(kv: KVNamespace, hash: string): Promise<ArrayBuffer | undefined> {
    const hit = entries.get(hash)
    if (hit) {
      // Map keeps insertion order: re-inserting marks the entry most recently used.
      entries.delete(hash)
      entries.set(hash, hit)
      return hit
    }
    let pending = reading.get(hash)
    if (!pending) {
      pending = fill(kv, hash).finally(() => reading.delete(hash))
      reading.set(hash, pending)
    }
    return pending
  }
}

/**
 * Keeps the manifest in the isolate for a few seconds, so a page costs one KV read (its blob),
 * not two. Concurrent misses share one read.
 */
export function manifestCache(ttlMs: number, now: () => number = Date.now) {
  let cached: { kv: KVNamespace; at: number; value: Promise<Manifest | undefined> } | undefined
  return function getManifest(kv: KVNamespace): Promise<Manifest | undefined> {
    const t = now()
    if (cached && cached.kv === kv && t - cached.at < ttlMs) return cached.value
    const value = readManifest(kv)
    cached = { kv, at: t, value }
    // A failed read must not be remembered: the next request tries again.
    value.catch(() => {
      if (cached?.value === value) cached = undefined
    })
    return value
  }
}
