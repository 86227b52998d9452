/**
 * The subscriber lifecycle: the only module that changes a subscription's state. Each transition
 * is one guarded D1 batch: the change, whose WHERE states the rule (listmonk's way); its history
 * line; and its side effects as outbox rows (the email to send, the event for the marketer's
 * webhook). The change stamps the rows it changed with a fresh `transition_id`, and the other
 * statements select by it, so they are written exactly when the change happened.
 *
 * ```
 * signUp -> pending --confirm--> active --lessonsSent…--> completed
 *                                  |  \-- pause / resume / restart / updateProfile
 *                                  \--> unsubscribe / stopAddress (bounced, complained) / erase
 * ```
 */
import { jsonRuns as runs } from '../lib/runs'
import { DEFAULT_COURSE } from './schema'
import { normalizeEmail, type SignupRecord, type Subscriber } from './store'

/** What a transition needs: the database, and whether the marketer has a webhook to tell. */
export interface LifecycleDeps {
  db: D1Database
  /** True when WEBHOOK_URL and WEBHOOK_SECRET are set; otherwise no event rows are written. */
  webhooks: boolean
}

/** The deps of the Worker's own env. */
export const lifecycleOf = (env: Env): LifecycleDeps => ({
  db: env.DB,
  webhooks: Boolean(env.WEBHOOK_URL && env.WEBHOOK_SECRET),
})

/** The events a marketer's endpoint hears about: one for every transition. */
export type SubscriberEventType =
  | 'subscriber.created'
  | 'subscriber.confirmed'
  | 'subscriber.paused'
  | 'subscriber.resumed'
  | 'subscriber.restarted'
  | 'subscriber.updated'
  | 'subscriber.unsubscribed'
  | 'subscriber.bounced'
  | 'subscriber.complained'
  | 'subscriber.completed'
  | 'subscriber.imported'
  | 'subscriber.erased'

/** One job a transition left in the outbox, to hand to the queue. */
export interface OutboxRow {
  outbox_id: number
  outbox_body: string
}

/** What a transition did: the rows it changed (none when the rule refused it) and the jobs it left. */
export interface Transitioned {
  changed: Subscriber[]
  outbox: OutboxRow[]
}

/** The subscriber's columns an outbound event carries, raw (the webhook consumer presents them). */
const EVENT_COLUMNS = [
  'id',
  'email',
  'first_name',
  'status',
  'course',
  'timezone',
  'lesson_position',
  'next_send_at',
  'source',
  'referrer',
  'landing_path',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_term',
  'utm_content',
  'created_at',
  'confirmed_at',
  'unsubscribed_at',
  'newsletter',
]
/**
 * The row as a JSON object. D1 passes at most 32 arguments to an SQL function (miniflare does not
 * check), so the object is made of 15 pairs and the rest added by json_insert, 15 at a time.
 */
export const ROW_JSON = (() => {
  const pairs = (columns: string[], key: (c: string) => string) => columns.map((c) => `${key(c)}, ${c}`).join(', ')
  let sql = `json_object(${pairs(EVENT_COLUMNS.slice(0, 15), (c) => `'${c}'`)})`
  for (let i = 15; i < EVENT_COLUMNS.length; i += 15)
    sql = `json_insert(${sql}, ${pairs(EVENT_COLUMNS.slice(i, i + 15), (c) => `'$.${c}'`)})`
  return sql
})()

/** SQL over the changed row with its own parameters, numbered from ?3 (?1 is the transition, ?2 now). */
interface Sql {
  sql: string
  params?: unknown[]
}

/** What follows a state change in the same batch. */
interface Effects {
  /** The history line's type, and its data (a JSON object over the row; from ?4). */
  history: string
  data?: Sql
  event: SubscriberEventType
  /** An email job (a JSON object over the row, with its `kind`; from ?3). */
  email?: Sql
}

const OUTBOX_RETURNING = 'RETURNING id AS outbox_id, body AS outbox_body'

/** The history line, the email job and the event of every row stamped with `tid`. */
function follow(
  deps: LifecycleDeps,
  tid: string,
  now: number,
  e: Effects,
  /** False when the jobs are the relay's to hand over (thousands of them: not read back). */
  returning = true,
): D1PreparedStatement[] {
  const { db } = deps
  const out = [
    db
      .prepare(
        `INSERT INTO subscriber_events (subscriber_id, type, at, data)
         SELECT id, ?3, ?2, ${e.data?.sql ?? `'{}'`} FROM subscribers WHERE transition_id = ?1`,
      )
      .bind(tid, now, e.history, ...(e.data?.params ?? [])),
  ]
  if (e.email)
    out.push(
      db
        .prepare(
          `INSERT INTO queue_outbox (subscriber_id, body, created_at)
           SELECT id, ${e.email.sql}, ?2 FROM subscribers WHERE transition_id = ?1 ${OUTBOX_RETURNING}`,
        )
        .bind(tid, now, ...(e.email.params ?? [])),
    )
  if (deps.webhooks) out.push(eventRows(db, tid, now, e.event, ROW_JSON, 'id', returning))
  return out
}

/** One outbound event per row stamped with `tid`, carrying `data` (SQL over the row). */
const eventRows = (
  db: D1Database,
  tid: string,
  now: number,
  type: string,
  data: string,
  owner: string,
  returning = true,
) =>
  db
    .prepare(
      `INSERT INTO queue_outbox (subscriber_id, body, created_at)
       SELECT ${owner}, json_object('kind', 'webhook', 'id', 'evt_' || lower(hex(randomblob(16))), 'type', ?3, 'at', ?2,
                                    'data', ${data}), ?2
       FROM subscribers WHERE transition_id = ?1 ${returning ? OUTBOX_RETURNING : ''}`,
    )
    .bind(tid, now, type)

/** The rows of the change statements, and every outbox row among a batch's results. */
function collect(results: D1Result<Record<string, unknown>>[], changeIndexes: number[]): Transitioned {
  const changed = changeIndexes.flatMap((i) => (results[i]?.results ?? []) as unknown as Subscriber[])
  const outbox = results.flatMap((r) =>
    (r.results ?? []).flatMap((row) =>
      'outbox_id' in row ? [{ outbox_id: Number(row.outbox_id), outbox_body: String(row.outbox_body) }] : [],
    ),
  )
  return { changed, outbox }
}

async function commit(db: D1Database, statements: D1PreparedStatement[], changeIndexes = [0]) {
  return collect(await db.batch<Record<string, unknown>>(statements), changeIndexes)
}

/**
 * A guarded change of one subscriber and what follows it. In `set` and `rule`, ?1 is the
 * transition, ?2 now, ?3 the subscriber's id, and `params` follow from ?4.
 */
function change(
  deps: LifecycleDeps,
  id: string,
  now: number,
  update: { set: string; rule: string; params?: unknown[] },
  effects: Effects,
): Promise<Transitioned> {
  const tid = crypto.randomUUID()
  const statement = deps.db
    .prepare(
      `UPDATE subscribers SET ${update.set}, transition_id = ?1, updated_at = ?2
       WHERE id = ?3 AND (${update.rule}) RETURNING *`,
    )
    .bind(tid, now, id, ...(update.params ?? []))
  return commit(deps.db, [statement, ...follow(deps, tid, now, effects)])
}

// ---- Signing up and confirming ---------------------------------------------------------------

const UPSERT_SIGNUP = `
INSERT INTO subscribers (
  id, email, email_normalized, first_name, course, status, timezone,
  source, referrer, landing_path, utm_source, utm_medium, utm_campaign, utm_term, utm_content,
  consent_at, consent_ip, consent_user_agent, consent_text, created_at, confirmation_sent_at, updated_at, transition_id,
  newsletter, newsletter_consent_at, newsletter_consent_ip, newsletter_consent_user_agent, newsletter_consent_text)
SELECT ?3, ?4, ?5, ?6, ?7, 'pending', ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?2, ?17, ?18, ?19, ?2, ?2, ?2, ?1,
  -- The newsletter's own consent (?22, its wording), asked on this signup: it starts at confirmation.
  CASE WHEN ?22 IS NULL THEN 'none' ELSE 'pending' END,
  CASE WHEN ?22 IS NULL THEN NULL ELSE ?2 END, CASE WHEN ?22 IS NULL THEN NULL ELSE ?17 END,
  CASE WHEN ?22 IS NULL THEN NULL ELSE ?18 END, ?22
-- A suppressed address (erased, bounced, complained) is never stored again: checked in the same statement.
WHERE NOT EXISTS (SELECT 1 FROM suppressions WHERE email_hash = ?21)
ON CONFLICT (email_normalized, course) DO UPDATE SET
  status = 'pending',
  email = excluded.email,
  first_name = coalesce(excluded.first_name, subscribers.first_name),
  timezone = excluded.timezone,
  source = excluded.source, referrer = excluded.referrer, landing_path = excluded.landing_path,
  utm_source = excluded.utm_source, utm_medium = excluded.utm_medium, utm_campaign = excluded.utm_campaign,
  utm_term = excluded.utm_term, utm_content = excluded.utm_content,
  consent_at = excluded.consent_at, consent_ip = excluded.consent_ip,
  consent_user_agent = excluded.consent_user_agent, consent_text = excluded.consent_text,
  lesson_position = 0, next_send_at = NULL, confirmed_at = NULL, unsubscribed_at = NULL, lease_until = NULL,
  -- Coming back after unsubscribing is a new round: its lessons are owed again, and the earlier
  -- round's confirmation link no longer confirms anything.
  course_round = subscribers.course_round + (subscribers.status = 'unsubscribed'),
  -- Asking for the newsletter again records this consent; a member stays one, on their first consent.
  newsletter = CASE WHEN excluded.newsletter = 'pending' AND subscribers.newsletter <> 'active'
                    THEN 'pending' ELSE subscribers.newsletter END,
  newsletter_consent_at = CASE WHEN excluded.newsletter = 'pending' AND subscribers.newsletter <> 'active'
                               THEN excluded.newsletter_consent_at ELSE subscribers.newsletter_consent_at END,
  newsletter_consent_ip = CASE WHEN excluded.newsletter = 'pending' AND subscribers.newsletter <> 'active'
                               THEN excluded.newsletter_consent_ip ELSE subscribers.newsletter_consent_ip END,
  newsletter_consent_user_agent = CASE WHEN excluded.newsletter = 'pending' AND subscribers.newsletter <> 'active'
                               THEN excluded.newsletter_consent_user_agent ELSE subscribers.newsletter_consent_user_agent END,
  newsletter_consent_text = CASE WHEN excluded.newsletter = 'pending' AND subscribers.newsletter <> 'active'
                               THEN excluded.newsletter_consent_text ELSE subscribers.newsletter_consent_text END,
  confirmation_sent_at = excluded.confirmation_sent_at, updated_at = excluded.updated_at,
  transition_id = excluded.transition_id
WHERE subscribers.status = 'unsubscribed'
   OR (subscribers.status = 'pending'
       AND (subscribers.confirmation_sent_at IS NULL OR subscribers.confirmation_sent_at <= ?20))
RETURNING *`

/**
 * Records a signup. A new address, a pending one whose last confirmation is older than
 * `resendBefore`, or an unsubscribed one, becomes pending with this signup's consent, and gets one
 * confirmation email and a `subscriber.created` event (as outbox rows). Anything else is left as
 * it is and nothing changes. One batch: concurrent signups of one address make one row and one email.
 */
export async function signUp(
  deps: LifecycleDeps,
  s: SignupRecord,
  now: number,
  resendBefore: number,
  /** SHA-256 of the normalized address, as `suppressions` keeps it. */
  suppressionHash: string,
): Promise<Transitioned & { isNew: boolean }> {
  const tid = crypto.randomUUID()
  const id = crypto.randomUUID()
  const upsert = deps.db
    .prepare(UPSERT_SIGNUP)
    .bind(
      tid,
      now,
      id,
      s.email.trim(),
      normalizeEmail(s.email),
      s.firstName ?? null,
      s.course,
      s.timezone,
      s.source ?? null,
      s.referrer ?? null,
      s.landingPath ?? null,
      s.utm.source ?? null,
      s.utm.medium ?? null,
      s.utm.campaign ?? null,
      s.utm.term ?? null,
      s.utm.content ?? null,
      s.consent.ip ?? null,
      s.consent.userAgent ?? null,
      s.consent.text,
      resendBefore,
      suppressionHash,
      s.newsletterConsent ?? null,
    )
  // A confirmed subscriber (in the course or through it) who ticks the newsletter's box on a new
  // signup is asked to confirm the newsletter alone: their course does not start again.
  const askTid = crypto.randomUUID()
  const askNewsletter = deps.db
    .prepare(
      `UPDATE subscribers SET newsletter = 'pending', newsletter_consent_at = ?2, newsletter_consent_ip = ?5,
         newsletter_consent_user_agent = ?6, newsletter_consent_text = ?7, confirmation_sent_at = ?2,
         transition_id = ?1, updated_at = ?2
       WHERE email_normalized = ?3 AND course = ?4 AND ?7 IS NOT NULL
         AND status IN ('active', 'paused', 'completed')
         AND (newsletter IN ('none', 'left')
              OR (newsletter = 'pending' AND (confirmation_sent_at IS NULL OR confirmation_sent_at <= ?8)))
       RETURNING *`,
    )
    .bind(
      askTid,
      now,
      normalizeEmail(s.email),
      s.course,
      s.consent.ip ?? null,
      s.consent.userAgent ?? null,
      s.newsletterConsent ?? null,
      resendBefore,
    )
  const result = await commit(deps.db, [
    upsert,
    askNewsletter,
    ...follow(deps, askTid, now, {
      history: 'newsletter_asked',
      data: { sql: `json_object('consent_text', newsletter_consent_text)` },
      event: 'subscriber.updated',
      email: {
        sql: `json_object('kind', 'confirmation', 'subscriberId', id, 'round', course_round, 'claimedAt', ?2,
                          'topic', 'newsletter')`,
      },
    }),
    ...follow(deps, tid, now, {
      history: 'signed_up',
      data: {
        sql: `json_object('again', json(CASE WHEN id = ?4 THEN 'false' ELSE 'true' END), 'source', source,
                          'consent_text', consent_text, 'round', course_round,
                          'newsletter_consent_text', CASE WHEN newsletter = 'pending' THEN newsletter_consent_text END)`,
        params: [id],
      },
      event: 'subscriber.created',
      email: { sql: `json_object('kind', 'confirmation', 'subscriberId', id, 'round', course_round, 'claimedAt', ?2)` },
    }),
  ])
  return { ...result, isNew: result.changed[0]?.id === id }
}

/**
 * pending -> active, with lesson 1 due now; only for the round the confirmation link was sent for,
 * so a link from before an unsubscribe and a new signup confirms nothing.
 */
export const confirm = (deps: LifecycleDeps, id: string, round: number, now: number) =>
  change(
    deps,
    id,
    now,
    {
      set: `status = 'active', confirmed_at = ?2, lesson_position = 0, next_send_at = ?2,
            newsletter = CASE WHEN newsletter = 'pending' THEN 'active' ELSE newsletter END,
            newsletter_joined_at = CASE WHEN newsletter = 'pending' THEN ?2 ELSE newsletter_joined_at END`,
      rule: `status = 'pending' AND course_round = ?4`,
      params: [round],
    },
    { history: 'confirmed', event: 'subscriber.confirmed' },
  )

/**
 * The newsletter asked for by a subscriber already confirmed (in the course or through it):
 * pending -> active, the course untouched.
 */
export const confirmNewsletter = (deps: LifecycleDeps, id: string, now: number) =>
  change(
    deps,
    id,
    now,
    {
      set: `newsletter = 'active', newsletter_joined_at = ?2, newsletter_left_at = NULL`,
      rule: `newsletter = 'pending' AND status IN ('active', 'paused', 'completed')`,
    },
    { history: 'newsletter_joined', event: 'subscriber.updated' },
  )

// ---- The subscriber's own changes (preferences, unsubscribe) ----------------------------------

/** What an unsubscribe leaves: the course, the newsletter, or everything. */
export type Topic = 'course' | 'newsletter' | 'all'

const LEAVE_COURSE = `status = CASE WHEN status IN ('pending', 'active', 'paused', 'completed') THEN 'unsubscribed' ELSE status END,
  unsubscribed_at = CASE WHEN status IN ('pending', 'active', 'paused', 'completed') THEN ?2 ELSE unsubscribed_at END,
  next_send_at = NULL, lease_until = NULL`
const LEAVE_NEWSLETTER = `newsletter = CASE WHEN newsletter IN ('pending', 'active') THEN 'left' ELSE newsletter END,
  newsletter_left_at = CASE WHEN newsletter IN ('pending', 'active') THEN ?2 ELSE newsletter_left_at END`
const IN_COURSE = `status IN ('pending', 'active', 'paused', 'completed')`
const IN_NEWSLETTER = `newsletter IN ('pending', 'active')`

const leaving: Record<Topic, { set: string; rule: string }> = {
  course: { set: LEAVE_COURSE, rule: IN_COURSE },
  newsletter: { set: LEAVE_NEWSLETTER, rule: IN_NEWSLETTER },
  all: { set: `${LEAVE_COURSE}, ${LEAVE_NEWSLETTER}`, rule: `${IN_COURSE} OR ${IN_NEWSLETTER}` },
}

/**
 * Leaves one topic at once (an email's one-click leaves that email's topic): the course (status
 * unsubscribed), the newsletter (left), or both. The other topic goes on.
 */
export const unsubscribe = (deps: LifecycleDeps, id: string, now: number, oneClick: boolean, topic: Topic = 'course') =>
  change(deps, id, now, leaving[topic], {
    history: topic === 'newsletter' ? 'newsletter_left' : 'unsubscribed',
    data: {
      sql: `json_object('one_click', json(?4), 'topic', ?5)`,
      params: [oneClick ? 'true' : 'false', topic],
    },
    event: topic === 'newsletter' ? 'subscriber.updated' : 'subscriber.unsubscribed',
  })

/** The newsletter's consent evidence, as the preferences page or a signup records it. */
export interface TopicConsent {
  text: string
  ip?: string
  userAgent?: string
}

/** Joins the newsletter from the preferences page: a confirmed address that still takes mail. */
export const joinNewsletter = (deps: LifecycleDeps, id: string, now: number, consent: TopicConsent) =>
  change(
    deps,
    id,
    now,
    {
      set: `newsletter = 'active', newsletter_joined_at = ?2, newsletter_left_at = NULL, newsletter_consent_at = ?2,
            newsletter_consent_text = ?4, newsletter_consent_ip = ?5, newsletter_consent_user_agent = ?6`,
      rule: `newsletter <> 'active' AND status NOT IN ('pending', 'bounced', 'complained')`,
      params: [consent.text, consent.ip ?? null, consent.userAgent ?? null],
    },
    {
      history: 'newsletter_joined',
      data: { sql: `json_object('consent_text', newsletter_consent_text)` },
      event: 'subscriber.updated',
    },
  )

/** active -> paused: no lesson until resumed. */
export const pause = (deps: LifecycleDeps, id: string, now: number) =>
  change(
    deps,
    id,
    now,
    { set: `status = 'paused'`, rule: `status = 'active'` },
    { history: 'paused', event: 'subscriber.paused' },
  )

/** paused -> active: the next lesson is due when it was due, or now if that has passed. */
export const resume = (deps: LifecycleDeps, id: string, now: number) =>
  change(
    deps,
    id,
    now,
    { set: `status = 'active', next_send_at = max(coalesce(next_send_at, ?2), ?2)`, rule: `status = 'paused'` },
    { history: 'resumed', event: 'subscriber.resumed' },
  )

/** Back to lesson 1, due now, in a new round, for anyone who confirmed and still wants mail. */
export const restart = (deps: LifecycleDeps, id: string, now: number) =>
  change(
    deps,
    id,
    now,
    {
      set: `status = 'active', lesson_position = 0, course_round = course_round + 1, next_send_at = ?2, lease_until = NULL`,
      rule: `status IN ('active', 'paused', 'completed')`,
    },
    { history: 'restarted', data: { sql: `json_object('round', course_round)` }, event: 'subscriber.restarted' },
  )

/**
 * Takes the course again after leaving it, from the preferences page (whose signed link proves the
 * address): lesson 1 due now, in a new round, with this consent as the course's evidence.
 */
export const rejoinCourse = (deps: LifecycleDeps, id: string, now: number, consent: TopicConsent) =>
  change(
    deps,
    id,
    now,
    {
      set: `status = 'active', lesson_position = 0, course_round = course_round + 1, next_send_at = ?2,
            lease_until = NULL, unsubscribed_at = NULL, confirmed_at = coalesce(confirmed_at, ?2),
            consent_at = ?2, consent_text = ?4, consent_ip = ?5, consent_user_agent = ?6`,
      rule: `status = 'unsubscribed'`,
      params: [consent.text, consent.ip ?? null, consent.userAgent ?? null],
    },
    {
      history: 'restarted',
      data: { sql: `json_object('round', course_round, 'consent_text', consent_text)` },
      event: 'subscriber.restarted',
    },
  )

/** New first name and time zone, and the next lesson's time in that zone (unchanged when null). */
export const updateProfile = (
  deps: LifecycleDeps,
  id: string,
  now: number,
  p: { firstName: string | null; timezone: string; nextSendAt: number | null },
) =>
  change(
    deps,
    id,
    now,
    {
      set: `first_name = ?4, timezone = ?5, next_send_at = coalesce(?6, next_send_at)`,
      rule: `status NOT IN ('bounced', 'complained')`,
      params: [p.firstName, p.timezone, p.nextSendAt],
    },
    {
      history: 'profile_updated',
      data: { sql: `json_object('timezone', timezone)` },
      event: 'subscriber.updated',
    },
  )

// ---- The sunset policy --------------------------------------------------------------------------

/** Subscribers by id, as one bound JSON list (D1 binds at most 100 values a statement). */
const IDS = `(SELECT value FROM json_each(?3))`

/**
 * Asks readers with no click in their last N emails whether they still want them: a re-engagement
 * email each, their history line and event, in one batch.
 */
export function askToStay(deps: LifecycleDeps, ids: string[], now: number): Promise<Transitioned> {
  const tid = crypto.randomUUID()
  return commit(deps.db, [
    deps.db
      .prepare(
        `UPDATE subscribers SET sunset_asked_at = ?2, transition_id = ?1, updated_at = ?2
         WHERE id IN ${IDS} AND sunset_asked_at IS NULL RETURNING *`,
      )
      .bind(tid, now, JSON.stringify(ids)),
    ...follow(deps, tid, now, {
      history: 'sunset_asked',
      event: 'subscriber.updated',
      email: { sql: `json_object('kind', 'reengagement', 'subscriberId', id, 'askedAt', ?2)` },
    }),
  ])
}

/** The reader answered (the email's button, or any click since): they stay, and the count starts again. */
export const stay = (deps: LifecycleDeps, id: string, now: number) =>
  change(
    deps,
    id,
    now,
    { set: `sunset_asked_at = NULL`, rule: `sunset_asked_at IS NOT NULL` },
    { history: 'stayed', event: 'subscriber.updated' },
  )

/** No answer within the grace period: every topic is left, as "Unsubscribe from everything" would. */
export function sunset(deps: LifecycleDeps, ids: string[], now: number): Promise<Transitioned> {
  const tid = crypto.randomUUID()
  return commit(deps.db, [
    deps.db
      .prepare(
        `UPDATE subscribers SET ${leaving.all.set}, sunset_asked_at = NULL, transition_id = ?1, updated_at = ?2
         WHERE id IN ${IDS} AND sunset_asked_at IS NOT NULL AND (${leaving.all.rule}) RETURNING *`,
      )
      .bind(tid, now, JSON.stringify(ids)),
    ...follow(deps, tid, now, {
      history: 'unsubscribed',
      data: { sql: `json_object('reason', 'sunset', 'topic', 'all')` },
      event: 'subscriber.unsubscribed',
    }),
  ])
}

// ---- What the provider tells us ----------------------------------------------------------------

/**
 * A hard bounce or a complaint: every subscription of the address stops at once, and the address
 * joins the suppressions (never mailed or stored again). Returns the statements, so that the
 * provider's event is recorded in the same transaction; `collectStop` reads the batch's results.
 */
export function stopAddress(
  deps: LifecycleDeps,
  address: string,
  hash: string,
  reason: 'bounced' | 'complained',
  now: number,
): D1PreparedStatement[] {
  const tid = crypto.randomUUID()
  return [
    deps.db
      .prepare(
        `UPDATE subscribers SET status = ?3, next_send_at = NULL, lease_until = NULL, transition_id = ?1, updated_at = ?2
         WHERE email_normalized = ?4 AND status NOT IN ('bounced', 'complained') RETURNING *`,
      )
      .bind(tid, now, reason, normalizeEmail(address)),
    ...follow(deps, tid, now, { history: reason, event: `subscriber.${reason}` }),
    deps.db
      .prepare('INSERT INTO suppressions (email_hash, reason, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING')
      .bind(hash, reason, now),
  ]
}

// ---- The course moving on ------------------------------------------------------------------------

/** One lesson the provider accepted: the subscriber moves to it, and on, or completes. */
export interface LessonSent {
  subscriberId: string
  round: number
  lesson: number
  /** When the following lesson is due; null after the last lesson (the course is completed). */
  nextSendAt: number | null
}

/**
 * Moves each subscriber of a sent batch on, in one transaction with `alongside` (the deliveries'
 * own records): position n, the next lesson due, lease released; after the last lesson, completed,
 * with its history line, closing email and event. Only the round the lesson belongs to moves on,
 * and a subscriber who paused or left in the meantime keeps that state.
 */
export function lessonsSent(
  deps: LifecycleDeps,
  batchKey: string,
  sent: LessonSent[],
  now: number,
  alongside: D1PreparedStatement[],
): Promise<Transitioned> {
  const tid = crypto.randomUUID()
  const advance = deps.db.prepare(
    `UPDATE subscribers SET lesson_position = ?4, lease_until = NULL, updated_at = ?2,
       next_send_at = CASE WHEN status = 'active' THEN ?5 ELSE next_send_at END,
       status = CASE WHEN ?5 IS NULL AND status IN ('active', 'paused') THEN 'completed' ELSE status END,
       transition_id = CASE WHEN ?5 IS NULL AND status IN ('active', 'paused') THEN ?1 ELSE transition_id END
     WHERE id = ?3 AND course_round = ?6 AND lesson_position = ?4 - 1`,
  )
  return commit(
    deps.db,
    [
      ...alongside,
      ...sent.map((s) => advance.bind(tid, now, s.subscriberId, s.lesson, s.nextSendAt, s.round)),
      ...completionEffects(deps, tid, now, { sql: '?3', params: [batchKey] }),
    ],
    [],
  )
}

/** The history line, closing email and event of subscribers who just completed; `batchKey` names the email. */
const completionEffects = (deps: LifecycleDeps, tid: string, now: number, batchKey: Sql) =>
  follow(deps, tid, now, {
    history: 'completed',
    data: { sql: `json_object('round', course_round)` },
    event: 'subscriber.completed',
    email: {
      sql: `json_object('kind', 'completion', 'subscriberId', id, 'batchKey', ${batchKey.sql})`,
      params: batchKey.params,
    },
  })

/**
 * Completes subscribers whose next lesson lies past the end of their course (the essay lost a part
 * since, or an import said so): they have had every lesson there is.
 */
export function completeBeyondEnd(
  deps: LifecycleDeps,
  pairs: { subscriberId: string; round: number; lesson: number }[],
  now: number,
): Promise<Transitioned> {
  const tid = crypto.randomUUID()
  const complete = deps.db.prepare(
    `UPDATE subscribers SET status = 'completed', next_send_at = NULL, lease_until = NULL, transition_id = ?1, updated_at = ?2
     WHERE id = ?3 AND course_round = ?4 AND lesson_position = ?5 - 1 AND status = 'active'`,
  )
  return commit(
    deps.db,
    [
      ...pairs.map((p) => complete.bind(tid, now, p.subscriberId, p.round, p.lesson)),
      ...completionEffects(deps, tid, now, { sql: `'end-' || course_round` }),
    ],
    [],
  )
}

// ---- The marketer's changes ------------------------------------------------------------------

/** One subscriber of an import, checked: the columns it sets. */
export interface ImportedSubscriber {
  email: string
  firstName: string | null
  course: string
  status: string
  timezone: string
  lessonPosition: number
  nextSendAt: number | null
  source: string | null
  referrer: string | null
  landingPath: string | null
  utm: (string | null)[]
  consentAt: number
  consentIp: string | null
  consentUserAgent: string | null
  consentText: string
  createdAt: number
  confirmedAt: number | null
  unsubscribedAt: number | null
}

// ---- An import: many subscribers in one transaction ----------------------------------------------

/**
 * Events handed to the queue at once (as any transition does); an import's others wait in the
 * outbox for the cron's relay, which hands them over within minutes. The doorbell of 40,000 events
 * would hold the answer for 800 queue and D1 calls, and their bodies (30 MB) would come back
 * from D1 with the batch.
 */
const RING_AT_ONCE = 500

/**
 * What each imported row's JSON array holds, slot by slot: the slots most rows leave empty come
 * last, so that a row's trailing nulls can be left off (`->>` reads a missing slot as NULL), and a
 * slot holding the usual value (the default course, the address already lower-case, now) is null.
 */
const SLOTS = [
  'id',
  'hash',
  'email',
  'consent_text',
  'consent_at',
  'status',
  'timezone',
  'lesson_position',
  'next_send_at',
  'course',
  'email_normalized',
  'created_at',
  'first_name',
  'source',
  'referrer',
  'landing_path',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_term',
  'utm_content',
  'consent_ip',
  'consent_user_agent',
  'confirmed_at',
  'unsubscribed_at',
] as const
type Slot = (typeof SLOTS)[number]
const slot = (name: Slot) => `r.value ->> ${SLOTS.indexOf(name)}`

/** Each column an import sets, read from a row's slots (?1 the transition, ?2 now, ?4 the default course). */
const IMPORTED: Record<string, string> = {
  ...Object.fromEntries(SLOTS.filter((s) => s !== 'hash').map((s) => [s, slot(s)])),
  course: `coalesce(${slot('course')}, ?4)`,
  email_normalized: `coalesce(${slot('email_normalized')}, ${slot('email')})`,
  consent_at: `coalesce(${slot('consent_at')}, ?2)`,
  created_at: `coalesce(${slot('created_at')}, ?2)`,
  updated_at: '?2',
  transition_id: '?1',
}

/** One checked row as the JSON array of its slots, trailing nulls left off. */
function slotsOf(r: ImportedSubscriber, hash: string, now: number): unknown[] {
  const normalized = normalizeEmail(r.email)
  const [utmSource, utmMedium, utmCampaign, utmTerm, utmContent] = r.utm
  const values: Record<Slot, unknown> = {
    id: crypto.randomUUID(),
    hash,
    email: r.email,
    consent_text: r.consentText,
    consent_at: r.consentAt === now ? null : r.consentAt,
    status: r.status,
    timezone: r.timezone,
    lesson_position: r.lessonPosition,
    next_send_at: r.nextSendAt,
    course: r.course === DEFAULT_COURSE ? null : r.course,
    email_normalized: normalized === r.email ? null : normalized,
    created_at: r.createdAt === now ? null : r.createdAt,
    first_name: r.firstName,
    source: r.source,
    referrer: r.referrer,
    landing_path: r.landingPath,
    utm_source: utmSource,
    utm_medium: utmMedium,
    utm_campaign: utmCampaign,
    utm_term: utmTerm,
    utm_content: utmContent,
    consent_ip: r.consentIp,
    consent_user_agent: r.consentUserAgent,
    confirmed_at: r.confirmedAt,
    unsubscribed_at: r.unsubscribedAt,
  }
  const out = SLOTS.map((s) => values[s] ?? null)
  while (out.length > 0 && out.at(-1) === null) out.pop()
  return out
}

/**
 * Stores checked rows in one D1 batch, which is one transaction: all of them or none. The lifecycle's
 * importSubscribers, set-based: each statement inserts a run of rows given as one JSON value
 * (json_each), so 40,000 rows are some 15 statements of 4 parameters instead of 40,000 of 27, and
 * the batch carries little more than the rows themselves. Each subscriber gets its history line
 * ('imported') and a `subscriber.imported` event. A row whose address is suppressed, or already has
 * the course, is skipped by the statement itself (the import checked first; this holds under a race too).
 */
export function importMany(
  deps: LifecycleDeps,
  rows: ImportedSubscriber[],
  hashes: string[],
  now: number,
): Promise<Transitioned> {
  const { db } = deps
  const values = rows.map((r, i) => slotsOf(r, hashes[i] ?? '', now))
  const insert = db.prepare(
    `INSERT INTO subscribers (${Object.keys(IMPORTED).join(', ')})
     SELECT ${Object.values(IMPORTED).join(', ')} FROM json_each(?3) AS r
     WHERE NOT EXISTS (SELECT 1 FROM suppressions WHERE email_hash = ${slot('hash')})
     ON CONFLICT DO NOTHING`,
  )
  // The first rows' events are rung at once, the others' are the relay's: two transition ids.
  const parts = [
    { tid: crypto.randomUUID(), values: values.slice(0, RING_AT_ONCE), returning: true },
    { tid: crypto.randomUUID(), values: values.slice(RING_AT_ONCE), returning: false },
  ].filter((p) => p.values.length > 0)
  const statements = parts.flatMap((p) =>
    runs(p.values).map((run) => insert.bind(p.tid, now, JSON.stringify(run), DEFAULT_COURSE)),
  )
  for (const p of parts)
    statements.push(
      ...follow(
        deps,
        p.tid,
        now,
        {
          history: 'imported',
          data: { sql: `json_object('status', status, 'lessons_received', lesson_position)` },
          event: 'subscriber.imported',
        },
        p.returning,
      ),
    )
  return commit(db, statements, [])
}

/**
 * GDPR erasure: every row about the address goes, in one transaction, its waiting jobs with it;
 * only its hash stays in `suppressions`, so it is never mailed or stored again. The marketer's
 * endpoint hears `subscriber.erased` with the subscriber's id alone. Returns the erased count.
 */
export async function erase(deps: LifecycleDeps, email: string, hash: string, now: number) {
  const { db } = deps
  const address = normalizeEmail(email)
  const tid = crypto.randomUUID()
  const ids = `(SELECT id FROM subscribers WHERE email_normalized = ?1)`
  const statements = [
    db.prepare(`UPDATE subscribers SET transition_id = ?1 WHERE email_normalized = ?2`).bind(tid, address),
    db.prepare(`DELETE FROM queue_outbox WHERE subscriber_id IN ${ids}`).bind(address),
    // The raw history of their emails; the counters (which name no one) keep their figures.
    ...['receipts', 'link_clicks', 'trouble'].map((table) =>
      db
        .prepare(`DELETE FROM ${table} WHERE subscriber IN (SELECT num FROM subscribers WHERE email_normalized = ?1)`)
        .bind(address),
    ),
    db.prepare(`DELETE FROM subscriber_events WHERE subscriber_id IN ${ids}`).bind(address),
    db.prepare(`DELETE FROM deliveries WHERE subscriber_id IN ${ids}`).bind(address),
    // A lesson batch's composition names its readers: the person leaves it (a retry of the batch
    // is then smaller, which the provider answers 409 under the same key: sent).
    db
      .prepare(
        `UPDATE lesson_batches SET pairs = (SELECT json_group_array(json(p.value)) FROM json_each(lesson_batches.pairs) p
                                            WHERE p.value ->> '$.subscriberId' NOT IN ${ids})
         WHERE EXISTS (SELECT 1 FROM json_each(lesson_batches.pairs) p WHERE p.value ->> '$.subscriberId' IN ${ids})`,
      )
      .bind(address),
    // Failed jobs kept for the marketer that name the person: by address (an outbound webhook's
    // copy) or by id (a mail job). Whole values only: erasing anna@ keeps banna@'s.
    db
      .prepare(
        `DELETE FROM dead_letters WHERE EXISTS (
           SELECT 1 FROM json_tree(dead_letters.body) t
           WHERE t.type = 'text' AND (lower(t.value) = ?1 OR t.value IN ${ids}))`,
      )
      .bind(address),
    db.prepare('DELETE FROM outbox WHERE lower(to_address) = ?1').bind(address),
  ]
  if (deps.webhooks) statements.push(eventRows(db, tid, now, 'subscriber.erased', `json_object('id', id)`, 'NULL'))
  statements.push(
    db.prepare('DELETE FROM subscribers WHERE email_normalized = ?1').bind(address),
    db
      .prepare(
        "INSERT INTO suppressions (email_hash, reason, created_at) VALUES (?, 'erased', ?) ON CONFLICT DO UPDATE SET reason = 'erased'",
      )
      .bind(hash, now),
  )
  const results = await db.batch<Record<string, unknown>>(statements)
  // Counted by the first statement, which touches the subscriptions alone: D1's count for the
  // DELETE includes the rows its foreign keys cascade to (a broadcast's recipient rows).
  const erased = results[0]?.meta.changes ?? 0
  return { erased, ...collect(results, []) }
}
