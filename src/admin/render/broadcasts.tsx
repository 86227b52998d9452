import type { presentBroadcast } from '../../newsletter/present'

/** A broadcast as the dashboard shows it (the API's view). */
export type BroadcastView = ReturnType<typeof presentBroadcast>

const statusText: Record<string, string> = {
  draft: 'Draft: not sent',
  scheduled: 'Scheduled',
  sending: 'Sending',
  paused: 'Paused',
  sent: 'Sent',
  cancelled: 'Cancelled',
}

const when = (b: BroadcastView) =>
  b.send === null ? '' : b.send === 'now' ? 'at once' : b.send === 'local-morning' ? "at each reader's morning" : b.send

/** Sent, skipped (and why), failed, remaining: the figures of one broadcast. */
const Progress = ({ b }: { b: BroadcastView }) => (
  <span>
    {b.recipients} recipient{b.recipients === 1 ? '' : 's'} · {b.sent} sent · {b.skipped} skipped
    {Object.keys(b.skipped_because).length > 0
      ? ` (${Object.entries(b.skipped_because)
          .map(([why, n]) => `${n} ${why}`)
          .join(', ')})`
      : ''}{' '}
    · {b.failed} failed · {b.remaining} to go
  </span>
)

/** Every broadcast: drafts first, then the newest. */
export const BroadcastList = ({ broadcasts }: { broadcasts: BroadcastView[] }) => {
  const drafts = broadcasts.filter((b) => b.status === 'draft')
  const others = broadcasts.filter((b) => b.status !== 'draft')
  return (
    <>
      <h1>Broadcasts</h1>
      <h2>Drafts</h2>
      {drafts.length === 0 ? (
        <p>No drafts: every published essay and letter has been sent. Publish a new one to see it here.</p>
      ) : (
        <ul>
          {drafts.map((b) => (
            <li>
              <a href={`/admin/broadcasts/${b.id}`}>{b.title ?? b.path}</a> ({b.kind}, {b.path})
            </li>
          ))}
        </ul>
      )}
      <h2>Sent and scheduled</h2>
      {others.length === 0 ? <p>Nothing yet.</p> : null}
      {others.length > 0 ? (
        <table>
          <thead>
            <tr>
              {['Essay or letter', 'Status', 'When', 'Progress'].map((h) => (
                <th scope="col">{h}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {others.map((b) => (
              <tr>
                <td>
                  <a href={`/admin/broadcasts/${b.id}`}>{b.title ?? b.path}</a>
                </td>
                <td>
                  {statusText[b.status]}
                  {b.paused_reason ? `: ${b.paused_reason}` : ''}
                </td>
                <td>{when(b)}</td>
                <td>
                  <Progress b={b} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  )
}

/** One broadcast: its figures, its email (framed, sandboxed), a test send, a schedule form, cancel or resume. */
export const BroadcastPage = (p: {
  b: BroadcastView
  text: string
  bytes: number
  notice?: string
  errors?: Record<string, string>
  values?: Record<string, string>
}) => {
  const { b } = p
  const value = (k: string) => p.values?.[k] ?? ''
  const error = (k: string) =>
    p.errors?.[k] ? (
      <p class="field-error" id={`${k.replace('.', '-')}-error`}>
        {p.errors[k]}
      </p>
    ) : null
  return (
    <>
      <h1>{b.title ?? b.path}</h1>
      {p.notice ? <p class="notice">{p.notice}</p> : null}
      {p.errors?.form ? (
        <p class="notice error" role="alert">
          {p.errors.form}
        </p>
      ) : null}
      <p>
        <a href="/admin/broadcasts">All broadcasts</a> · {b.kind === 'essay' ? <a href={b.path}>{b.path}</a> : b.path}
      </p>
      <h2>Status</h2>
      <p>
        <strong>{statusText[b.status]}</strong>
        {b.status !== 'draft' ? (
          <>
            {' '}
            {when(b)} · <Progress b={b} />
          </>
        ) : null}
      </p>
      {b.paused_reason ? (
        <p class="notice error" role="alert">
          Paused by the deliverability guard: {b.paused_reason}. Look at the complaints and bounces before you resume.
        </p>
      ) : null}
      <div class="actions">
        {b.status === 'paused' ? (
          <form method="post" action={`/admin/broadcasts/${b.id}/resume`}>
            <button type="submit">Resume sending</button>
          </form>
        ) : null}
        {['scheduled', 'sending', 'paused'].includes(b.status) ? (
          <form method="post" action={`/admin/broadcasts/${b.id}/cancel`}>
            <button type="submit">Cancel what has not gone out</button>
          </form>
        ) : null}
      </div>
      <h2>The email</h2>
      <p>{(p.bytes / 1024).toFixed(1)} KB of HTML, shown with sample values.</p>
      <iframe
        title={`The email of ${b.title ?? b.path}`}
        src={`/admin/broadcasts/${b.id}/html`}
        sandbox=""
        width="100%"
        height="600"
      />
      <details>
        <summary>Its plain-text part</summary>
        <pre>{p.text}</pre>
      </details>
      <h2>Send a test</h2>
      <form class="signup" method="post" action={`/admin/broadcasts/${b.id}/test`}>
        <p>
          <label for="test-to">Your address</label>
          <input
            id="test-to"
            name="to"
            type="email"
            required
            autocomplete="email"
            value={value('to')}
            aria-invalid={p.errors?.to ? 'true' : undefined}
            aria-describedby={p.errors?.to ? 'to-error' : undefined}
          />
        </p>
        {error('to')}
        <p>
          <button type="submit">Send me a test</button>
        </p>
      </form>
      <h2>{b.status === 'draft' ? 'Send it to the newsletter' : 'Send it again (a new broadcast)'}</h2>
      <form class="signup" method="post" action="/admin/broadcasts">
        <input type="hidden" name="path" value={b.path} />
        <fieldset>
          <legend>When</legend>
          <p class="consent">
            <input
              type="radio"
              id="send-morning"
              name="send"
              value="local-morning"
              checked={value('send') !== 'now' && value('send') !== 'at'}
            />
            <label for="send-morning">At each reader's local morning (skips their lesson days)</label>
          </p>
          <p class="consent">
            <input type="radio" id="send-now" name="send" value="now" checked={value('send') === 'now'} />
            <label for="send-now">Now</label>
          </p>
          <p class="consent">
            <input type="radio" id="send-at" name="send" value="at" checked={value('send') === 'at'} />
            <label for="send-at">At this time (UTC):</label>
          </p>
          <p>
            <input id="send-at-time" name="at" type="datetime-local" aria-label="Time, UTC" value={value('at')} />
          </p>
        </fieldset>
        {error('send')}
        <fieldset>
          <legend>Only these members (optional)</legend>
          <p>
            <label for="seg-source">Source</label>
            <input id="seg-source" name="segment.source" value={value('segment.source')} />
          </p>
          {error('segment.source')}
          <p>
            <label for="seg-campaign">UTM campaign</label>
            <input id="seg-campaign" name="segment.utm_campaign" value={value('segment.utm_campaign')} />
          </p>
          {error('segment.utm_campaign')}
          <p>
            <label for="seg-from">Signed up from</label>
            <input id="seg-from" name="segment.signed_up_from" type="date" value={value('segment.signed_up_from')} />
          </p>
          {error('segment.signed_up_from')}
          <p>
            <label for="seg-to">Signed up until</label>
            <input id="seg-to" name="segment.signed_up_to" type="date" value={value('segment.signed_up_to')} />
          </p>
          {error('segment.signed_up_to')}
          <p>
            <label for="seg-course">The course</label>
            <select id="seg-course" name="segment.course">
              {[
                ['', 'Anyone'],
                ['in-progress', 'Taking it now'],
                ['completed', 'Finished it'],
                ['none', 'Not taking it'],
              ].map(([v, label]) => (
                <option value={v} selected={value('segment.course') === v}>
                  {label}
                </option>
              ))}
            </select>
          </p>
          {error('segment.course')}
        </fieldset>
        <p>
          <button type="submit">Schedule</button>
        </p>
      </form>
    </>
  )
}
