import type { Child } from 'hono/jsx'
import type { Subscriber } from '../../subscribers/store'
import type { broadcastTable, courseStats, linkTable, sourceTable } from '../stats'

type Stats = Awaited<ReturnType<typeof courseStats>>
type Sources = Awaited<ReturnType<typeof sourceTable>>
type Broadcasts = Awaited<ReturnType<typeof broadcastTable>>
type Links = (Awaited<ReturnType<typeof linkTable>>[number] & { target: string })[]

/**
 * A wide table or chart in a box that scrolls sideways on a phone; focusable and named, so that
 * keyboard users can scroll it too (WCAG 2.1.1).
 */
export const Scroll = ({ label, children }: { label: string; children: Child }) => (
  <section class="scroll" tabindex={0} aria-label={label}>
    {children}
  </section>
)

/** A table of figures: a header row, then one row per item, the first cell naming it. */
const Figures = ({ caption, head, rows }: { caption: string; head: string[]; rows: (string | number)[][] }) => (
  <Scroll label={caption}>
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          {head.map((h) => (
            <th scope="col">{h}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map(([first, ...rest]) => (
          <tr>
            <th scope="row">{first}</th>
            {rest.map((v) => (
              <td>{v}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  </Scroll>
)

/** The dashboard's sections, in its navigation. */
const SECTIONS = [
  ['/admin', 'Overview'],
  ['/admin/subscribers', 'Subscribers'],
  ['/admin/import', 'Import'],
  ['/admin/lessons', 'Lessons'],
  ['/admin/broadcasts', 'Broadcasts'],
  ['/admin/dead-letters', 'Dead letters'],
] as const

/**
 * The dashboard's own header, in place of the readers' chrome: the site's name, the sections (the
 * current one marked) and the sign-out button; on the sign-in page, the name alone.
 */
export const AdminHeader = ({ siteName, current }: { siteName: string; current?: string }) => (
  <>
    <a class="brand" href="/admin">
      {siteName} · Dashboard
    </a>
    {current === undefined ? null : (
      <>
        <nav class="primary" aria-label="Dashboard">
          <ul>
            {SECTIONS.map(([href, text]) => (
              <li>
                <a
                  href={href}
                  aria-current={
                    current === href || (href !== '/admin' && current.startsWith(`${href}/`)) ? 'page' : undefined
                  }
                >
                  {text}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <form method="post" action="/admin/sign-out">
          <button type="submit">Sign out</button>
        </form>
      </>
    )}
  </>
)

/** Sign-in with the admin token; works without JavaScript. */
export const SignIn = ({ error }: { error?: string }) => (
  <>
    <h1>Dashboard sign-in</h1>
    {error ? (
      <p class="notice error" role="alert">
        {error}
      </p>
    ) : null}
    <form class="signup" method="post" action="/admin/sign-in">
      <p>
        <label for="token">Admin token</label>
        <input id="token" name="token" type="password" required autocomplete="current-password" />
      </p>
      <p>
        <button type="submit">Sign in</button>
      </p>
    </form>
  </>
)

/** A share as a percentage a person reads: 0.8172 -> "81.7%"; none -> "–". */
export const percent = (ratio: number | null | undefined) =>
  ratio === null || ratio === undefined || Number.isNaN(ratio)
    ? '–'
    : `${(ratio * 100).toFixed(1).replace(/\.0$/, '')}%`

/** "2026-12-06" -> "6 Dec" (the chart's dates, in UTC like the figures). */
const shortDay = (day: string) =>
  new Date(`${day}T00:00:00Z`).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' })

/** A round top for the y axis: 1, 2, 5, 10, 20, 50… at or above `max`. */
const niceTop = (max: number) => {
  const step = 10 ** Math.floor(Math.log10(Math.max(1, max)))
  return [1, 2, 5, 10].map((m) => m * step).find((t) => t >= max) ?? max
}

/**
 * Signups per day as a server-rendered SVG bar chart with axes, dates and each day's value written
 * on its bar (nothing needs hovering), and the same figures as a table for screen readers and copying.
 */
export const SignupChart = ({ days }: { days: { day: string; signups: number }[] }) => {
  const total = days.reduce((n, d) => n + d.signups, 0)
  const top = niceTop(Math.max(1, ...days.map((d) => d.signups)))
  const [left, right, upper, lower] = [36, 8, 16, 44]
  const width = 720
  const height = 240
  const plot = { w: width - left - right, h: height - upper - lower }
  const bar = days.length ? plot.w / days.length : plot.w
  const y = (v: number) => upper + plot.h - (v / top) * plot.h
  const every = Math.max(1, Math.ceil(days.length / 8))
  return (
    <figure class="chart">
      <Scroll label="Signups per day, chart">
        <svg viewBox={`0 0 ${width} ${height}`} width="100%" role="img" aria-labelledby="chart-title chart-desc">
          <title id="chart-title">Signups per day</title>
          <desc id="chart-desc">
            {days.length} days from {days[0] ? shortDay(days[0].day) : '–'} to{' '}
            {days.at(-1) ? shortDay(days.at(-1)?.day ?? '') : '–'}: {total} signups in all. The table below gives each
            day.
          </desc>
          {[0, top / 2, top].map((v) => (
            <g>
              <line x1={left} x2={width - right} y1={y(v)} y2={y(v)} stroke="currentColor" stroke-opacity="0.2" />
              <text x={left - 6} y={y(v) + 4} text-anchor="end" font-size="14" fill="currentColor">
                {Number.isInteger(v) ? v : v.toFixed(1)}
              </text>
            </g>
          ))}
          {days.map((d, i) => {
            const h = (d.signups / top) * plot.h
            const x = left + i * bar
            return (
              <g>
                <rect x={x + 1} y={upper + plot.h - h} width={Math.max(1, bar - 2)} height={h} fill="currentColor" />
                {d.signups > 0 ? (
                  <text
                    x={x + bar / 2}
                    y={upper + plot.h - h - 3}
                    text-anchor="middle"
                    font-size="11"
                    fill="currentColor"
                  >
                    {d.signups}
                  </text>
                ) : null}
                {i % every === 0 ? (
                  <text x={x + bar / 2} y={height - lower + 16} text-anchor="middle" font-size="14" fill="currentColor">
                    {shortDay(d.day)}
                  </text>
                ) : null}
              </g>
            )
          })}
          <line x1={left} x2={width - right} y1={upper + plot.h} y2={upper + plot.h} stroke="currentColor" />
          <text x={left + plot.w / 2} y={height - 6} text-anchor="middle" font-size="14" fill="currentColor">
            Day (UTC)
          </text>
        </svg>
      </Scroll>
      <figcaption>
        Signups per day over {days.length} days: {total} in all, at most {Math.max(0, ...days.map((d) => d.signups))} a
        day.
      </figcaption>
      <details>
        <summary>The figures as a table</summary>
        <table>
          <caption>Signups per day</caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col">Signups</th>
            </tr>
          </thead>
          <tbody>
            {days.map((d) => (
              <tr>
                <th scope="row">{d.day}</th>
                <td>{d.signups}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  )
}

/** The overview: chart, funnel as bars with percentages, rates as percentages. */
export const Overview = ({
  stats,
  days,
  funnel,
  sources,
  broadcasts,
  lessonClicks,
  links,
}: {
  stats: Stats
  days: { day: string; signups: number }[]
  funnel: { step: string; count: number }[]
  sources: Sources
  broadcasts: Broadcasts
  /** Readers who clicked a link of lesson n, by n. */
  lessonClicks: (n: number) => number
  links: Links
}) => {
  const first = funnel[0]?.count ?? 0
  return (
    <>
      <h1>Overview</h1>
      <SignupChart days={days} />
      <h2>Rates</h2>
      <p>
        Confirm rate: <strong>{percent(stats.confirm_rate)}</strong> of signups · completion rate:{' '}
        <strong>{percent(stats.completion_rate)}</strong> of confirmed subscribers
      </p>
      <h2>Course funnel</h2>
      <Scroll label="Course funnel">
        <table class="funnel">
          <thead>
            <tr>
              <th scope="col">Step</th>
              <th scope="col">Subscribers</th>
              <th scope="col">Of those who signed up</th>
            </tr>
          </thead>
          <tbody>
            {funnel.map((f) => (
              <tr>
                <th scope="row">{f.step}</th>
                <td>{f.count}</td>
                <td>
                  <progress max={100} value={first ? Math.round((f.count / first) * 1000) / 10 : 0}>
                    {percent(first ? f.count / first : null)}
                  </progress>{' '}
                  {percent(first ? f.count / first : null)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
      <h2>By source and campaign</h2>
      <Figures
        caption="Signups by source and UTM campaign, all time"
        head={['Source', 'Campaign', 'Signups', 'Confirm rate', 'Clicked an email']}
        rows={sources.map((r) => [
          r.source || '(none)',
          r.campaign || '(none)',
          r.signups,
          percent(r.confirm_rate),
          r.clicked,
        ])}
      />
      <h2>Per lesson</h2>
      <Figures
        caption="Each lesson: what the mail provider reported, and who left the course after it"
        head={['Lesson', 'Sent', 'Delivered', 'Clicked', 'Bounced', 'Complained', 'Unsubscribed after it']}
        rows={(stats.lessons as Record<string, number>[]).map((l) => [
          `Lesson ${l.lesson}`,
          l.sent ?? 0,
          l.delivered ?? 0,
          lessonClicks(l.lesson ?? 0),
          l.bounced ?? 0,
          l.complained ?? 0,
          (stats.unsubscribes_by_lesson as Record<string, number>[]).find((u) => u.after_lesson === l.lesson)
            ?.unsubscribed ?? 0,
        ])}
      />
      <h2>Per broadcast</h2>
      {broadcasts.length === 0 ? (
        <p>
          No broadcast sent yet. <a href="/admin/broadcasts">Send one</a>.
        </p>
      ) : (
        <Figures
          caption="Each broadcast: what the mail provider reported, and who left the new essays after it"
          head={['Broadcast', 'Sent', 'Delivered', 'Clicked', 'Bounced', 'Complained', 'Unsubscribed after it']}
          rows={broadcasts.map((b) => [
            b.path,
            b.sent,
            b.delivered,
            b.clicked,
            b.bounced,
            b.complained,
            b.unsubscribed,
          ])}
        />
      )}
      <h2>Per link</h2>
      <p>
        Clicks are counted on our own domain: each link in a lesson or a broadcast goes through a short signed redirect
        (/r/…), whatever the mail client or its privacy features do with images.
      </p>
      {links.length === 0 ? (
        <p>No click yet.</p>
      ) : (
        <Figures
          caption="The links clicked most"
          head={['Email', 'Link', 'Clicks', 'Readers who clicked']}
          rows={links.map((l) => [l.email, l.target, l.clicks, l.readers])}
        />
      )}
    </>
  )
}

/** The list's filters, as the form and the links carry them. */
export interface ListFilters {
  q: string
  status: string
  source: string
}

const query = (f: ListFilters, extra: Record<string, string> = {}) => {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries({ ...f, ...extra })) if (v) params.set(k, v)
  const text = params.toString()
  return text ? `?${text}` : ''
}

const day = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString().slice(0, 10))

/**
 * Subscribers, newest first, a page at a time: search by address, status and source as selects,
 * a CSV of the same filter, and each address a link to its own page.
 */
export const SubscriberTable = (p: {
  rows: Subscriber[]
  filters: ListFilters
  statuses: readonly string[]
  sources: string[]
  /** The next page's cursor, when there is one. */
  next?: string
  /** This is not the first page. */
  paged: boolean
  error?: string
  notice?: string
}) => (
  <>
    <h1>Subscribers</h1>
    {p.notice ? <p class="notice">{p.notice}</p> : null}
    {p.error ? (
      <p class="notice error" role="alert">
        {p.error}
      </p>
    ) : null}
    <form class="filters" method="get" action="/admin/subscribers">
      <p>
        <label for="q">Address contains</label>
        <input id="q" name="q" value={p.filters.q} maxlength={100} />
      </p>
      <p>
        <label for="status">Status</label>
        <select id="status" name="status">
          <option value="">Any status</option>
          {p.statuses.map((s) => (
            <option value={s} selected={s === p.filters.status}>
              {s}
            </option>
          ))}
        </select>
      </p>
      <p>
        <label for="source">Source</label>
        <select id="source" name="source">
          <option value="">Any source</option>
          {[...new Set([...p.sources, ...(p.filters.source ? [p.filters.source] : [])])].map((s) => (
            <option value={s} selected={s === p.filters.source}>
              {s}
            </option>
          ))}
        </select>
      </p>
      <p>
        <button type="submit">Search</button>
      </p>
    </form>
    <p>
      <a class="button" href={`/admin/subscribers.csv${query(p.filters)}`} download="subscribers.csv">
        Download these as CSV
      </a>
    </p>
    {p.rows.length === 0 ? <p>No subscriber matches.</p> : null}
    <Scroll label="Subscribers, newest first">
      <table>
        <caption>Subscribers, newest first</caption>
        <thead>
          <tr>
            {['Email', 'Status', 'Lessons', 'New essays', 'Source', 'Campaign', 'Signed up'].map((h) => (
              <th scope="col">{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {p.rows.map((s) => (
            <tr>
              <td>
                <a href={`/admin/subscribers/${s.id}`}>{s.email}</a>
              </td>
              <td>{s.status}</td>
              <td>{s.lesson_position}</td>
              <td>{s.newsletter ?? 'none'}</td>
              <td>{s.source ?? ''}</td>
              <td>{s.utm_campaign ?? ''}</td>
              <td>{day(s.created_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Scroll>
    <nav aria-label="Pages">
      <p>
        {p.paged ? <a href={`/admin/subscribers${query(p.filters)}`}>First page</a> : null}
        {p.paged && p.next ? ' · ' : null}
        {p.next ? <a href={`/admin/subscribers${query(p.filters, { cursor: p.next })}`}>Next page</a> : null}
      </p>
    </nav>
  </>
)

const when = (v: unknown) => (typeof v === 'string' ? v.replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : '')

/** A table of rows the admin API presents (times already ISO 8601), with the columns named. */
const Rows = ({
  caption,
  rows,
  columns,
}: {
  caption: string
  rows: Record<string, unknown>[]
  columns: [string, string][]
}) =>
  rows.length === 0 ? (
    <p>{caption}: none.</p>
  ) : (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          {columns.map(([, label]) => (
            <th scope="col">{label}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr>
            {columns.map(([key]) => {
              const v = r[key]
              return (
                <td>
                  {key.endsWith('at')
                    ? when(v)
                    : typeof v === 'object' && v !== null
                      ? JSON.stringify(v)
                      : String(v ?? '')}
                </td>
              )
            })}
          </tr>
        ))}
      </tbody>
    </table>
  )

/** One subscriber: who, what they receive, their consent evidence, history, emails, provider events. */
export const SubscriberPage = (p: {
  s: Subscriber
  courseTitle: string
  history: {
    deliveries: Record<string, unknown>[]
    events: Record<string, unknown>[]
    received: Record<string, unknown>[]
  }
}) => {
  const { s } = p
  const facts: [string, string][] = [
    [
      'Status in the course',
      `${s.status} (${p.courseTitle}, round ${s.course_round}, ${s.lesson_position} lessons received)`,
    ],
    ['New essays', s.newsletter ?? 'none'],
    ['First name', s.first_name ?? ''],
    ['Time zone', s.timezone],
    ['Next lesson', s.next_send_at ? when(new Date(s.next_send_at).toISOString()) : ''],
    ['Signed up', when(new Date(s.created_at).toISOString())],
    ['Source', s.source ?? ''],
    ['Landing page', s.landing_path ?? ''],
    ['Referrer', s.referrer ?? ''],
    ['UTM', [s.utm_source, s.utm_medium, s.utm_campaign, s.utm_term, s.utm_content].filter(Boolean).join(' · ')],
  ]
  const consent = (
    label: string,
    c: { at: number | null; ip: string | null; ua: string | null; text: string | null },
  ) =>
    c.text ? (
      <section aria-label={label}>
        <h3>{label}</h3>
        <dl>
          <dt>When</dt>
          <dd>{c.at ? when(new Date(c.at).toISOString()) : ''}</dd>
          <dt>IP address</dt>
          <dd>{c.ip ?? 'not recorded'}</dd>
          <dt>Browser</dt>
          <dd>{c.ua ?? 'not recorded'}</dd>
          <dt>Wording agreed to</dt>
          <dd>{c.text}</dd>
        </dl>
      </section>
    ) : null
  return (
    <>
      <h1>{s.email}</h1>
      <p>
        <a href="/admin/subscribers">All subscribers</a>
      </p>
      <dl>
        {facts.map(([k, v]) => (
          <>
            <dt>{k}</dt>
            <dd>{v || '–'}</dd>
          </>
        ))}
      </dl>
      <h2>Consent evidence</h2>
      {consent('The course', { at: s.consent_at, ip: s.consent_ip, ua: s.consent_user_agent, text: s.consent_text })}
      {consent('New essays', {
        at: s.newsletter_consent_at,
        ip: s.newsletter_consent_ip,
        ua: s.newsletter_consent_user_agent,
        text: s.newsletter_consent_text,
      })}
      <h2>History</h2>
      <Rows
        caption="What happened"
        rows={p.history.events}
        columns={[
          ['at', 'When'],
          ['type', 'What'],
          ['data', 'Details'],
        ]}
      />
      <h2>Lessons sent</h2>
      <Rows
        caption="Deliveries"
        rows={p.history.deliveries}
        columns={[
          ['round', 'Round'],
          ['lesson', 'Lesson'],
          ['status', 'Status'],
          ['sent_at', 'Sent'],
        ]}
      />
      <h2>Emails received</h2>
      <Rows
        caption="What became of each email (from the mail provider, and links followed)"
        rows={p.history.received.map((r) => ({
          ...r,
          events: (r.events as string[]).join(', ') || 'sent; nothing reported yet',
        }))}
        columns={[
          ['sent_at', 'Sent'],
          ['email', 'Email'],
          ['events', 'What happened'],
        ]}
      />
      <h2>Their data (GDPR)</h2>
      <div class="actions">
        <a class="button" href={`/admin/subscribers/${s.id}/export.json`} download={`${s.id}.json`}>
          Download everything held (JSON)
        </a>
        <a class="button" href={`/admin/subscribers/${s.id}/erase`}>
          Erase this person…
        </a>
      </div>
    </>
  )
}

/** Erasure asks first: the address typed again, as confirmation. */
export const EraseConfirm = ({ s, error }: { s: Subscriber; error?: string }) => (
  <>
    <h1>Erase {s.email}?</h1>
    <p>
      Every row about this address goes at once: subscriptions, history, emails sent, provider events. Only a one-way
      hash stays, so the address is never stored or mailed again. This cannot be undone.
    </p>
    {error ? (
      <p class="notice error" role="alert">
        {error}
      </p>
    ) : null}
    <form class="signup" method="post" action={`/admin/subscribers/${s.id}/erase`}>
      <p>
        <label for="confirm">Type the address to confirm</label>
        <input
          id="confirm"
          name="confirm"
          type="email"
          required
          autocomplete="off"
          aria-invalid={error ? 'true' : undefined}
        />
      </p>
      <p>
        <button type="submit">Erase for good</button> <a href={`/admin/subscribers/${s.id}`}>Keep it</a>
      </p>
    </form>
  </>
)

/** Each lesson as a subscriber receives it: subject, size, HTML (framed, sandboxed) and text. */
/** A lesson as the dashboard shows it. */
export interface LessonView {
  n: number
  subject: string
  webPath: string
  bytes: number
  text: string
}

export const Lessons = ({ lessons }: { lessons: LessonView[] }) => (
  <>
    <h1>Lessons</h1>
    {lessons.map((l) => (
      <section aria-labelledby={`lesson-${l.n}`}>
        <h2 id={`lesson-${l.n}`}>{l.subject}</h2>
        <p>
          {(l.bytes / 1024).toFixed(1)} KB of HTML · read on the web at <a href={l.webPath}>{l.webPath}</a>
        </p>
        <iframe
          title={`HTML of lesson ${l.n}`}
          src={`/admin/lessons/${l.n}/html`}
          sandbox=""
          width="100%"
          height="500"
        />
        <pre>{l.text}</pre>
      </section>
    ))}
  </>
)

/** Messages that failed every retry. */
export const DeadLetters = ({
  rows,
}: {
  rows: { id: number; queue: string; body: string; attempts: number; received_at: number }[]
}) => (
  <>
    <h1>Dead letters</h1>
    {rows.length === 0 ? <p>None: every queued message went through.</p> : null}
    <table>
      <thead>
        <tr>
          {['Queue', 'Attempts', 'Received', 'Message'].map((h) => (
            <th scope="col">{h}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr>
            <td>{r.queue}</td>
            <td>{r.attempts}</td>
            <td>{new Date(r.received_at).toISOString()}</td>
            <td>
              <code>{r.body}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  </>
)
