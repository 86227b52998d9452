import type { Subscriber } from '../../subscribers/store'
import type { courseStats } from '../stats'

type Stats = Awaited<ReturnType<typeof courseStats>>

/** The dashboard's own navigation and sign-out button. */
export const AdminNav = () => (
  <nav aria-label="Dashboard">
    <p>
      <a href="/admin">Overview</a> · <a href="/admin/subscribers">Subscribers</a> ·{' '}
      <a href="/admin/lessons">Lessons</a> · <a href="/admin/broadcasts">Broadcasts</a> ·{' '}
      <a href="/admin/dead-letters">Dead letters</a>
    </p>
    <form method="post" action="/admin/sign-out">
      <button type="submit">Sign out</button>
    </form>
  </nav>
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

/** Signups per day as an inline SVG bar chart (no chart library, no request). */
export const SignupChart = ({ days }: { days: { day: string; signups: number }[] }) => {
  const max = Math.max(1, ...days.map((d) => d.signups))
  const width = 600
  const height = 160
  const bar = days.length ? width / days.length : width
  return (
    <figure>
      <svg viewBox={`0 0 ${width} ${height + 20}`} width="100%" role="img" aria-labelledby="chart-title">
        <title id="chart-title">Signups per day, {days.length} days</title>
        {days.map((d, i) => {
          const h = Math.round((d.signups / max) * height)
          return (
            <rect x={i * bar + 1} y={height - h} width={Math.max(1, bar - 2)} height={h} fill="currentColor">
              <title>
                {d.day}: {d.signups}
              </title>
            </rect>
          )
        })}
      </svg>
      <figcaption>
        Signups per day ({days.reduce((n, d) => n + d.signups, 0)} in all, at most {max} a day)
      </figcaption>
    </figure>
  )
}

/** The overview: chart, funnel, lessons. */
export const Overview = ({
  stats,
  days,
  funnel,
}: {
  stats: Stats
  days: { day: string; signups: number }[]
  funnel: { step: string; count: number }[]
}) => (
  <>
    <h1>Overview</h1>
    <AdminNav />
    <SignupChart days={days} />
    <h2>Course funnel</h2>
    <table>
      <thead>
        <tr>
          <th scope="col">Step</th>
          <th scope="col">Subscribers</th>
        </tr>
      </thead>
      <tbody>
        {funnel.map((f) => (
          <tr>
            <th scope="row">{f.step}</th>
            <td>{f.count}</td>
          </tr>
        ))}
      </tbody>
    </table>
    <p>
      Confirm rate: {stats.confirm_rate ?? '–'} · completion rate: {stats.completion_rate ?? '–'}
    </p>
  </>
)

/** Subscribers, searchable by address and filtered by status and source. */
export const SubscriberTable = ({
  rows,
  q,
  status,
  source,
}: {
  rows: Subscriber[]
  q: string
  status: string
  source: string
}) => (
  <>
    <h1>Subscribers</h1>
    <AdminNav />
    <form method="get" action="/admin/subscribers">
      <p>
        <label for="q">Address contains</label> <input id="q" name="q" value={q} /> <label for="status">Status</label>{' '}
        <input id="status" name="status" value={status} /> <label for="source">Source</label>{' '}
        <input id="source" name="source" value={source} /> <button type="submit">Search</button>
      </p>
    </form>
    <table>
      <thead>
        <tr>
          {['Email', 'Status', 'Lessons', 'Source', 'Campaign', 'Signed up'].map((h) => (
            <th scope="col">{h}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((s) => (
          <tr>
            <td>{s.email}</td>
            <td>{s.status}</td>
            <td>{s.lesson_position}</td>
            <td>{s.source ?? ''}</td>
            <td>{s.utm_campaign ?? ''}</td>
            <td>{new Date(s.created_at).toISOString().slice(0, 10)}</td>
          </tr>
        ))}
      </tbody>
    </table>
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
    <AdminNav />
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
    <AdminNav />
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
