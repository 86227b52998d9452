import { sha256Hex } from '../lib/hash'
import type { PublishedSettings } from '../ui/types'
import type { EmailTemplate } from './manifest'
import { type BroadcastInfo, keys, type Manifest, type ManifestEmail, type ManifestEntry } from './manifest'

/** One file the build produced, before it is stored. */
export interface BuiltFile {
  path: string
  contentType: string
  /** The file's text, or with `encoding: 'base64'` its bytes in base64 (images). */
  body: string
  encoding?: 'base64'
  /** The page loads our own script (a signup form). */
  scripts?: boolean
}

/** Everything the build produced: the routes, the 404 page, the emails, the settings. */
export interface SiteBuild {
  files: BuiltFile[]
  notFound: BuiltFile
  emails: Record<string, EmailTemplate>
  /** Each course's lessons, in order. */
  courses: Record<string, { lessons: (EmailTemplate & { title: string; webPath: string })[] }>
  /** Each essay and letter the newsletter can send, by path. */
  broadcasts: Record<string, EmailTemplate & BroadcastInfo>
  /** Every site link the emails carry: its id (in /r/ links) and the tagged path it leads to. */
  links: Record<string, string>
  settings: PublishedSettings
  styleSrc: string
}

/**
 * The few KV operations publishing needs. A Workers `KVNamespace` (local or in tests) fits through
 * {@link kvStore}; the remote target fits through wrangler's CLI.
 */
export interface ContentStore {
  get(key: string): Promise<string | null>
  /** Every key that starts with `prefix`. */
  listKeys(prefix: string): Promise<string[]>
  putMany(entries: StoredValue[]): Promise<void>
}

/** One key to write, as `wrangler kv bulk put` reads it: a binary value travels in base64. */
export interface StoredValue {
  key: string
  value: string
  base64?: boolean
}

/** The bytes a base64 string stands for (in Node and in workerd alike). */
const fromBase64 = (value: string) => Uint8Array.from(atob(value), (c) => c.charCodeAt(0))

/** SHA-256 of a file's bytes, lower-case hex: of its UTF-8 text, or of the bytes its base64 stands for. */
async function fileHash(body: string, encoding?: 'base64'): Promise<string> {
  if (encoding !== 'base64') return sha256Hex(body)
  const digest = await crypto.subtle.digest('SHA-256', fromBase64(body))
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

/** What a publish did, for the person running it. */
export interface PublishReport {
  manifestId: string
  uploaded: string[]
  skipped: string[]
  /** False when the new manifest equals the current one, so nothing was switched. */
  switched: boolean
}

/** Adapts a Workers KV binding to the store publishing writes to. */
export function kvStore(kv: KVNamespace): ContentStore {
  return {
    get: (key) => kv.get(key),
    async listKeys(prefix) {
      const names: string[] = []
      let cursor: string | undefined
      do {
        const page = await kv.list({ prefix, cursor })
        names.push(...page.keys.map((k) => k.name))
        cursor = page.list_complete ? undefined : page.cursor
      } while (cursor)
      return names
    },
    async putMany(entries) {
      for (const { key, value, base64 } of entries) await kv.put(key, base64 ? fromBase64(value) : value)
    },
  }
}

/** A blob's body as the build made it. */
type BlobBody = Pick<BuiltFile, 'body' | 'encoding'>

type ManifestBody = Pick<Manifest, 'routes' | 'notFound' | 'emails' | 'courses' | 'broadcasts' | 'links'>

/** Names every file of a build by its hash; `blobs` holds each distinct body once. */
async function describeBuild(build: SiteBuild): Promise<ManifestBody & { blobs: Map<string, BlobBody> }> {
  const blobs = new Map<string, BlobBody>()
  const describe = async (body: string, contentType: string, encoding?: 'base64'): Promise<ManifestEntry> => {
    const hash = await fileHash(body, encoding)
    blobs.set(hash, { body, ...(encoding ? { encoding } : {}) })
    return { hash, contentType }
  }
  const email = async (e: EmailTemplate): Promise<ManifestEmail> => ({
    subject: e.subject,
    html: await describe(e.html, 'text/html; charset=utf-8'),
    text: await describe(e.text, 'text/plain; charset=utf-8'),
  })
  const routes: Record<string, ManifestEntry> = {}
  for (const f of build.files)
    routes[f.path] = { ...(await describe(f.body, f.contentType, f.encoding)), ...(f.scripts ? { scripts: true } : {}) }
  const notFound = await describe(build.notFound.body, build.notFound.contentType)
  const emails: Record<string, ManifestEmail> = {}
  for (const [name, e] of Object.entries(build.emails)) emails[name] = await email(e)
  const courses: Manifest['courses'] = {}
  for (const [course, c] of Object.entries(build.courses)) {
    const lessons = []
    for (const l of c.lessons) lessons.push({ ...(await email(l)), title: l.title, webPath: l.webPath })
    courses[course] = { lessons }
  }
  const broadcasts: Manifest['broadcasts'] = {}
  for (const [path, { subject, html, text, ...info }] of Object.entries(build.broadcasts ?? {}))
    broadcasts[path] = { ...(await email({ subject, html, text })), ...info }
  return { routes, notFound, emails, courses, broadcasts, links: build.links ?? {}, blobs }
}

/** Uploads the blobs the store does not hold yet. */
async function uploadMissing(store: ContentStore, blobs: Map<string, BlobBody>) {
  const existing = new Set(await store.listKeys(keys.blobPrefix))
  const uploaded: string[] = []
  const skipped: string[] = []
  const toPut: StoredValue[] = []
  for (const [hash, { body, encoding }] of blobs) {
    if (existing.has(keys.blob(hash))) skipped.push(hash)
    else {
      uploaded.push(hash)
      toPut.push({ key: keys.blob(hash), value: body, ...(encoding === 'base64' ? { base64: true } : {}) })
    }
  }
  if (toPut.length > 0) await store.putMany(toPut)
  return { uploaded, skipped }
}

/**
 * Publishes a build: uploads the blobs the store lacks, archives the new manifest, then switches
 * the live manifest in one write. Publishing the same build twice uploads nothing.
 */
export async function publishSite(store: ContentStore, build: SiteBuild, now: Date): Promise<PublishReport> {
  const { blobs, ...body } = await describeBuild(build)
  const { uploaded, skipped } = await uploadMissing(store, blobs)
  const { styleSrc, settings } = build
  const id = await sha256Hex(JSON.stringify({ ...body, settings, styleSrc }))
  const current = await currentManifest(store)
  if (current?.id === id) return { manifestId: id, uploaded, skipped, switched: false }
  const manifest: Manifest = {
    version: 1,
    id,
    publishedAt: now.toISOString(),
    previous: current?.id,
    styleSrc,
    settings,
    ...body,
  }
  const json = JSON.stringify(manifest)
  // Archive first, switch last: a crash in between leaves the old version live and whole.
  await store.putMany([{ key: keys.archivedManifest(id), value: json }])
  await store.putMany([{ key: keys.manifest, value: json }])
  return { manifestId: id, uploaded, skipped, switched: true }
}

/** Restores the manifest the current one replaced; undefined when there is none to go back to. */
export async function rollbackSite(store: ContentStore): Promise<Manifest | undefined> {
  const current = await currentManifest(store)
  if (!current?.previous) return undefined
  const json = await store.get(keys.archivedManifest(current.previous))
  if (json === null) return undefined
  await store.putMany([{ key: keys.manifest, value: json }])
  return JSON.parse(json) as Manifest
}

async function currentManifest(store: ContentStore): Promise<Manifest | undefined> {
  const json = await store.get(keys.manifest)
  return json === null ? undefined : (JSON.parse(json) as Manifest)
}
