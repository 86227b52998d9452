import type { ImportReport } from '../import'

/** What the upload page needs to explain the file: plain values from the routes. */
export interface ImportColumns {
  /** The export's columns, in order. */
  columns: readonly string[]
  statuses: readonly string[]
  /** The published courses' ids. */
  courses: readonly string[]
  defaultCourse: string
  /** The largest file taken, in MB. */
  maxMb: number
}

/** The columns an import cannot do without. */
const REQUIRED = new Set(['email', 'consent_at', 'consent_text'])

const ISO = 'an ISO 8601 date and time with its offset, e.g. 2026-11-01T10:00:00Z, not in the future'

/** What each column of the export holds, as an import reads it. */
const help = (o: ImportColumns): Record<string, string> => ({
  id: 'ignored: each imported subscriber gets an id of its own',
  email: 'the address',
  first_name: 'optional; no line breaks or markup',
  status: `one of ${o.statuses.join(', ')}; empty means active`,
  course: `one of ${o.courses.join(', ')}; empty means ${o.defaultCourse}`,
  timezone: 'an IANA time zone, e.g. Europe/Berlin; empty means UTC',
  lessons_received: 'how many lessons the person already had; empty means 0, so lesson 1 comes next',
  source: 'optional: where the signup came from',
  referrer: 'optional',
  landing_path: 'optional',
  utm_source: 'optional',
  utm_medium: 'optional',
  utm_campaign: 'optional',
  utm_term: 'optional',
  utm_content: 'optional',
  consent_at: `when the person agreed: ${ISO}`,
  consent_ip: 'optional: the IP address the consent came from',
  consent_user_agent: 'optional: the browser the consent came from',
  consent_text: 'the exact wording the person agreed to',
  created_at: `optional: ${ISO}; empty means now`,
  confirmed_at: `optional: ${ISO}`,
  unsubscribed_at: `optional: ${ISO}`,
})

/** Says plainly what an import does to the people in it. */
const MailWarning = () => (
  <p class="notice">
    <strong>Imported rows become subscribers and will be mailed.</strong> A row whose status is active (an empty status
    counts as active) becomes an active subscriber at once and will be mailed the course: their next lesson, lesson 1
    unless lessons_received says they already had some, goes out at the next run of the course's cron, within minutes.
    No confirmation email is sent first: the consent in the file stands for it. Rows with any other status are stored as
    they are, and the import mails them nothing.
  </p>
)

/** The upload form: a CSV file, checked (a dry run) before anything is stored. */
const UploadForm = ({ maxMb, again }: { maxMb: number; again?: boolean }) => (
  <form class="signup" method="post" action="/admin/import/check" enctype="multipart/form-data">
    <h2>{again ? 'Check another file' : 'Check a file'}</h2>
    <p>
      <label for="import-file">CSV file</label>
      <span class="hint" id="import-file-hint">
        UTF-8 text, at most {maxMb} MB. Nothing is stored by this step: you see the report first.
      </span>
      <input
        id="import-file"
        name="file"
        type="file"
        accept=".csv,text/csv"
        required
        aria-describedby="import-file-hint"
      />
    </p>
    <p>
      <button type="submit">Check the file</button>
    </p>
  </form>
)

/** GET /admin/import, and a refused upload (with the problem named on top). */
export const ImportForm = ({ problem, ...o }: ImportColumns & { problem?: string }) => {
  const text = help(o)
  return (
    <>
      <h1>Import subscribers</h1>
      {problem ? (
        <p class="notice error" role="alert">
          {problem}
        </p>
      ) : null}
      <p>
        Upload a CSV with the columns of the subscribers' export (an export imports back as it was). The first line
        names the columns, in any order; <code>email</code>, <code>consent_at</code> and <code>consent_text</code> are
        required, the others may be left out or left empty. Every row is checked first: you see which rows would be
        taken and why any are refused, and nothing is stored until you confirm.
      </p>
      <MailWarning />
      <UploadForm maxMb={o.maxMb} />
      <h2>The columns</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Column</th>
            <th scope="col">Required</th>
            <th scope="col">What it holds</th>
          </tr>
        </thead>
        <tbody>
          {o.columns.map((c) => (
            <tr>
              <th scope="row">
                <code>{c}</code>
              </th>
              <td>{REQUIRED.has(c) ? 'Required' : 'Optional'}</td>
              <td>{text[c] ?? 'optional'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        A row is also refused when it repeats an earlier row, its address already has the course, or the address was
        erased at the person's request or has bounced or complained.
      </p>
    </>
  )
}

/** At most this many refused rows are listed on a page; the reasons' summary counts them all. */
const LISTED = 500

const rows = (n: number) => `${n} row${n === 1 ? '' : 's'}`
const subscribers = (n: number) => `${n} subscriber${n === 1 ? '' : 's'}`

/** Each refused row with its line and reasons, after a count of each reason. */
const Refused = ({ refused }: { refused: ImportReport['refused'] }) => {
  if (refused.length === 0) return <p>No row is refused.</p>
  const counts = new Map<string, number>()
  for (const r of refused) for (const reason of r.reasons) counts.set(reason, (counts.get(reason) ?? 0) + 1)
  const common = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 10)
  return (
    <>
      <p>{rows(refused.length)} refused. The reasons, most common first:</p>
      <ul class="reasons">
        {common.map(([reason, n]) => (
          <li>
            {reason}: {rows(n)}
          </li>
        ))}
      </ul>
      {refused.length > LISTED ? (
        <p>
          The first {LISTED} of the {rows(refused.length)} are listed; fix them and check the file again to see the
          rest.
        </p>
      ) : null}
      <table class="refused">
        <caption>Refused rows, by line of the file (the header is line 1)</caption>
        <thead>
          <tr>
            <th scope="col">Line</th>
            <th scope="col">Email</th>
            <th scope="col">Reasons</th>
          </tr>
        </thead>
        <tbody>
          {refused.slice(0, LISTED).map((r) => (
            <tr>
              <td>{r.line}</td>
              <td>{r.email}</td>
              <td>{r.reasons.join('; ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  )
}

/**
 * POST /admin/import/check: the dry run's report, and the form that imports the same CSV. The CSV
 * travels in the form itself, so nothing is kept between the check and the import.
 */
export const ImportCheck = ({
  report,
  csv,
  fileName,
  maxMb,
}: {
  report: ImportReport
  csv: string
  fileName: string
  maxMb: number
}) => (
  <>
    <h1>Import: check of {fileName}</h1>
    <p class="notice">
      <strong>Nothing has been imported yet.</strong> {rows(report.taken)} would be taken, {rows(report.refused.length)}{' '}
      refused.
    </p>
    {report.taken > 0 ? (
      <>
        <MailWarning />
        <form class="signup" method="post" action="/admin/import/run" enctype="multipart/form-data">
          <h2>Import</h2>
          <input type="hidden" name="name" value={fileName} />
          <input type="hidden" name="csv" value={csv} />
          <p>
            {report.taken === 1
              ? 'The row that passed the check is imported'
              : `The ${report.taken} rows that passed the check are imported in one go`}
            {report.refused.length > 0 ? '; the refused rows are left out' : ''}.
          </p>
          <p>
            <button type="submit">Import {subscribers(report.taken)}</button>
          </p>
        </form>
      </>
    ) : (
      <p class="notice error" role="alert">
        Every row was refused: there is nothing to import. Fix the rows below and check the file again.
      </p>
    )}
    <h2>Refused rows</h2>
    <Refused refused={report.refused} />
    <UploadForm maxMb={maxMb} again />
  </>
)

/** POST /admin/import/run: what the import took and refused. */
export const ImportDone = ({ report, fileName }: { report: ImportReport; fileName: string }) => (
  <>
    <h1>{report.taken > 0 ? `Imported ${subscribers(report.taken)}` : 'Nothing imported'}</h1>
    {report.taken > 0 ? (
      <>
        <p class="notice">
          {rows(report.taken)} of {fileName} taken, {rows(report.refused.length)} refused. Those whose status is active
          are now active subscribers and will be mailed their next lesson at the next run of the course's cron.
        </p>
        <p>
          <a href="/admin/subscribers">See the subscribers</a>
        </p>
      </>
    ) : (
      <p class="notice error" role="alert">
        Every row of {fileName} was refused: nothing was stored.
      </p>
    )}
    <h2>Refused rows</h2>
    <Refused refused={report.refused} />
    <p>
      <a href="/admin/import">Import another file</a>
    </p>
  </>
)
