import type { Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { Hono } from 'hono/tiny'
import { pageRoute, page as pageSpec } from '../lib/api'
import type { SiteContent } from '../site/content'
import { lifecycleOf } from '../subscribers/lifecycle'
import { DEFAULT_COURSE } from '../subscribers/schema'
import { adminPages } from './admin-page'
import { CSV_COLUMNS } from './csv'
import { importSubscribers } from './import'
import { ImportCheck, ImportDone, ImportForm } from './render/import-page'
import { STATUSES } from './schemas'

/** The largest CSV an import takes, as the API's import: 5 MB. */
const MAX_MB = 5
const MAX_BYTES = MAX_MB << 20
/** Room for the multipart framing around the file (boundaries, part headers, the file's name). */
const FRAMING = 64 << 10

/** A dashboard page, behind the session cookie. */
const dash = (summary: string, responses: Record<number, unknown> = {}) =>
  pageRoute(summary, { 303: pageSpec('Not signed in: to the sign-in page'), ...responses }, ['dashboard'])

/** The refusals of an uploaded file, documented once for both steps. */
const refusals = {
  400: pageSpec('No file, an empty file, or no rows under the header'),
  413: pageSpec('Over 5 MB'),
  415: pageSpec('Not CSV text (UTF-8)'),
  422: pageSpec('Every row was refused'),
}

/** The media types a browser gives a .csv file (Windows names it after Excel when Excel is installed). */
const CSV_TYPES = new Set([
  'text/csv',
  'text/plain',
  'text/comma-separated-values',
  'text/x-csv',
  'application/csv',
  'application/x-csv',
  'application/vnd.ms-excel',
])

type Upload = { csv: string; name: string } | { status: 400 | 413 | 415; problem: string }

const megabytes = (bytes: number) => `${(bytes / (1 << 20)).toFixed(1)} MB`

/** A file's name as a page shows it: its last path part, at most 100 characters. */
const shortName = (name: string) => (name.split(/[\\/]/).at(-1) ?? '').slice(0, 100) || 'the file'

/** The uploaded file as CSV text, or what is wrong with it. */
async function fileOf(file: File): Promise<Upload> {
  const name = shortName(file.name)
  if (file.size > MAX_BYTES)
    return {
      status: 413,
      problem: `${name} is ${megabytes(file.size)}: an import takes at most ${MAX_MB} MB. Split it into smaller files and import each.`,
    }
  if (file.size === 0) return { status: 400, problem: `${name} is empty: choose the CSV with your subscribers.` }
  const type = file.type.split(';')[0]?.trim().toLowerCase() ?? ''
  const named = /\.(csv|txt)$/i.test(name)
  if (!CSV_TYPES.has(type) && !((type === '' || type === 'application/octet-stream') && named))
    return {
      status: 415,
      problem: `${name} is not a CSV file (it is ${type || 'of no known type'}). ${
        type.includes('spreadsheet') || type.includes('excel') ? 'Save the workbook as “CSV UTF-8” and ' : ''
      }Upload the CSV text.`,
    }
  return textOf(new Uint8Array(await file.arrayBuffer()), name)
}

/** Bytes as CSV text: UTF-8, with no binary data in it. */
function textOf(bytes: Uint8Array, name: string): Upload {
  let csv: string
  try {
    csv = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)
  } catch {
    return {
      status: 415,
      problem: `${name} is not UTF-8 text: save it as “CSV UTF-8” (comma-delimited) and upload it again.`,
    }
  }
  if (csv.includes('\u0000'))
    return { status: 415, problem: `${name} holds binary data, not CSV text: upload the CSV export itself.` }
  if (csv.trim() === '') return { status: 400, problem: `${name} is empty: choose the CSV with your subscribers.` }
  return { csv, name }
}

/**
 * The CSV a form sent: an uploaded file (`file`), or the text the check page carried over (`csv`).
 * A browser sends a form's text with CRLF line ends, so the carried text is measured with LF ones,
 * as the file was: what passed the check passes here.
 */
async function uploadOf(c: Context<{ Bindings: Env }>): Promise<Upload> {
  const body = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>)
  if (body.file instanceof File && body.file.size > 0) return fileOf(body.file)
  if (typeof body.csv === 'string' && body.csv !== '') {
    const name = shortName(typeof body.name === 'string' ? body.name : '')
    const bytes = new TextEncoder().encode(body.csv.replace(/\r\n/g, '\n'))
    if (bytes.length > MAX_BYTES)
      return { status: 413, problem: `${name} is ${megabytes(bytes.length)}: an import takes at most ${MAX_MB} MB.` }
    return textOf(bytes, name)
  }
  if (body.file instanceof File && body.file.name !== '') return fileOf(body.file)
  return { status: 400, problem: 'No file was chosen: choose the CSV with your subscribers, then check it.' }
}

/**
 * The dashboard's CSV import at /admin/import: upload, a dry run's report (what would be taken,
 * each refused row with its line and reasons, and plainly that active rows will be mailed), then the
 * import itself. The CSV travels in the check page's form, so nothing is stored between the steps.
 * The import is the API's (`importSubscribers`): the same checks, one transaction.
 */
export function importPageRoutes(content: SiteContent) {
  const app = new Hono<{ Bindings: Env }>()
  const page = adminPages(content)
  const current = '/admin/import'

  // Behind the session: the dashboard's routes put every /admin page but sign-in and sign-out there.

  const explained = async (env: Env) => ({
    columns: CSV_COLUMNS,
    statuses: STATUSES,
    courses: Object.keys((await content.manifest(env.CONTENT)).courses),
    defaultCourse: DEFAULT_COURSE,
    maxMb: MAX_MB,
  })
  /** The upload page again, with what was wrong with the upload on top. */
  const refuse = async (env: Env, status: number, problem: string) =>
    page(env, 'Import subscribers', <ImportForm {...(await explained(env))} problem={problem} />, { status, current })

  /** The import, a dry run or not, with the published courses and their lessons. */
  const run = async (c: Context<{ Bindings: Env }>, csv: string, dryRun: boolean) => {
    const manifest = await content.manifest(c.env.CONTENT)
    const courses = Object.fromEntries(
      Object.entries(manifest.courses).map(([id, course]) => [id, course.lessons.length]),
    )
    return importSubscribers(lifecycleOf(c.env), c.env.MAIL, csv, Date.now(), dryRun, courses)
  }
  const statusOf = (taken: number, refused: number) => (taken === 0 && refused > 0 ? 422 : 200)

  app.get('/admin/import', dash('Import subscribers from a CSV: the columns and the upload form'), async (c) =>
    page(c.env, 'Import subscribers', <ImportForm {...(await explained(c.env))} />, { current }),
  )

  app.post(
    '/admin/import/check',
    dash('Check an uploaded CSV (a dry run): what would be taken and refused; stores nothing', refusals),
    bodyLimit({
      maxSize: MAX_BYTES + FRAMING,
      onError: (c) => refuse(c.env, 413, `The file is over ${MAX_MB} MB: an import takes at most ${MAX_MB} MB.`),
    }),
    async (c) => {
      const upload = await uploadOf(c)
      if ('problem' in upload) return refuse(c.env, upload.status, upload.problem)
      const report = await run(c, upload.csv, true)
      if (report.taken === 0 && report.refused.length === 0)
        return refuse(c.env, 400, `${upload.name} has no rows under its header line: there is nothing to import.`)
      return page(
        c.env,
        'Import: check',
        <ImportCheck report={report} csv={upload.csv} fileName={upload.name} maxMb={MAX_MB} />,
        { status: statusOf(report.taken, report.refused.length), current },
      )
    },
  )

  app.post(
    '/admin/import/run',
    dash('Import the checked CSV: stores the rows that pass, in one transaction', refusals),
    // The CSV comes back as form text, its line ends made CRLF by the browser: up to twice the file.
    bodyLimit({
      maxSize: 2 * MAX_BYTES + FRAMING,
      onError: (c) => refuse(c.env, 413, `The file is over ${MAX_MB} MB: an import takes at most ${MAX_MB} MB.`),
    }),
    async (c) => {
      const upload = await uploadOf(c)
      if ('problem' in upload) return refuse(c.env, upload.status, upload.problem)
      const report = await run(c, upload.csv, false)
      if (report.taken === 0 && report.refused.length === 0)
        return refuse(c.env, 400, `${upload.name} has no rows under its header line: there is nothing to import.`)
      return page(
        c.env,
        report.taken > 0 ? 'Import: done' : 'Import: nothing imported',
        <ImportDone report={report} fileName={upload.name} />,
        { status: statusOf(report.taken, report.refused.length), current },
      )
    },
  )

  return app
}
