import type { Child } from 'hono/jsx'
import type { TokenProblem } from '../../lib/tokens'
import { type FormState, SignupForm } from '../../ui/signup-form'
import type { CourseSettings } from '../../ui/types'
import type { Subscriber } from '../store'

/** A heading and a few paragraphs: the shape of most pages here. */
export const Notice = ({ title, children }: { title: string; children: Child }) => (
  <>
    <h1>{title}</h1>
    {children}
  </>
)

const SHOWN = new Set(['email', 'name', 'consent', 'form'])

/**
 * The form again, with what went wrong beside each field and what the reader typed. The hidden
 * attribution of the refused post rides along, so a typo does not lose where the reader came from;
 * problems with fields the reader cannot see are named at the top.
 */
export const SignupAgain = (
  p: FormState & { courseId: string; course: CourseSettings; raw: Record<string, unknown>; turnstileSiteKey?: string },
) => {
  // A value that was itself the problem is not carried into the next try.
  const text = (k: string) =>
    typeof p.raw[k] === 'string' && !p.errors?.[k as keyof typeof p.errors] ? (p.raw[k] as string) : undefined
  const hidden = Object.entries(p.errors ?? {}).filter(([k]) => !SHOWN.has(k))
  const carried = Object.fromEntries(
    ['timezone', 'referrer', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'].flatMap((k) =>
      text(k) ? [[k, text(k)]] : [],
    ),
  )
  return (
    <>
      <h1>{p.course.title}</h1>
      <p class="notice error" role="alert">
        Your signup was not sent: please check the fields marked below.
        {hidden.map(([k, v]) => ` The ${k} ${v}.`).join('')}
      </p>
      <SignupForm
        id="signup"
        course={p.courseId}
        consent={p.course.consent}
        source={text('source') ?? 'signup-retry'}
        landingPath={text('landing_path')}
        carried={carried}
        errors={p.errors}
        values={p.values}
        heading="Try again"
        turnstileSiteKey={p.turnstileSiteKey}
        embed={p.raw.embed === '1'}
      />
    </>
  )
}

/** Where a form signup lands: the same words whether the address was new or known. */
export const CheckInbox = () => (
  <Notice title="Check your inbox">
    <p>
      We have sent a confirmation link to the address you gave, unless it was already confirmed. Open the email and
      press the button to start the course; nothing is sent before you do.
    </p>
    <p>No email after a few minutes? Look in your spam folder, or sign up again in ten minutes.</p>
    <p>
      <a href="/">Back to the essays</a>
    </p>
  </Notice>
)

/** Why a link was refused: its token, or (`stale`) a confirmation from an earlier signup. */
export type LinkTrouble = TokenProblem | 'stale'

const problemText: Record<LinkTrouble, string> = {
  stale:
    'This confirmation link is from an earlier signup, so it no longer confirms anything. Use the link in the newest email we sent you, or sign up again.',
  malformed: 'This link is incomplete. Copy the whole address from the email, or use the button in it.',
  forged: 'This link is not one we made. Use the link in your email exactly as it is.',
  expired: 'This link has expired. Sign up again and we will send you a fresh one.',
  'wrong-purpose': 'This link is meant for another page. Use the matching link in your email.',
}

/** A refused link: what is wrong and what to do, never what was checked. */
export const LinkProblem = ({ problem }: { problem: LinkTrouble }) => (
  <Notice title="This link does not work">
    <p>{problemText[problem]}</p>
    <p>
      <a href="/cure-back-pain-program">Go to the program page</a>
    </p>
  </Notice>
)

/** One button that posts back to the same address: mail scanners follow links but do not press buttons. */
export const ActionButton = ({ label }: { label: string }) => (
  <form method="post">
    <button type="submit">{label}</button>
  </form>
)

/** GET /confirm/:token. */
export const ConfirmPrompt = ({ courseTitle }: { courseTitle: string }) => (
  <Notice title="Confirm your subscription">
    <p>Press the button to confirm that you want to receive {courseTitle} by email. Lesson 1 follows shortly.</p>
    <ActionButton label="Yes, start the course" />
  </Notice>
)

/** After a confirmation, or a repeated one. */
/** What a confirm link found: the subscription it confirmed just now, or one confirmed before. */
export type ConfirmedState =
  | { now: true }
  | { now: false; status: 'active' | 'paused' | 'completed'; lessonsReceived: number }

/** The page after a confirm link: true to what happened, whether this click confirmed or not. */
export const Confirmed = ({
  courseTitle,
  preferencesUrl,
  state,
}: {
  courseTitle: string
  preferencesUrl: string
  state: ConfirmedState
}) => {
  const preferences = <a href={preferencesUrl}>preferences page</a>
  if (state.now)
    return (
      <Notice title="You are in">
        <p>Thank you for confirming. Lesson 1 of {courseTitle} is on its way to your inbox.</p>
        <p>You can pause the course or change your details on your {preferences}.</p>
      </Notice>
    )
  if (state.status === 'completed')
    return (
      <Notice title="You have finished the course">
        <p>
          You confirmed this subscription before, and you have had every lesson of {courseTitle}. To take it again,
          restart it on your {preferences}.
        </p>
      </Notice>
    )
  if (state.status === 'paused')
    return (
      <Notice title="Your course is paused">
        <p>
          You confirmed this subscription before, and {courseTitle} is paused. Resume it on your {preferences} when you
          are ready.
        </p>
      </Notice>
    )
  return (
    <Notice title="You have already confirmed">
      <p>
        {state.lessonsReceived === 0
          ? `You confirmed this subscription before; lesson 1 of ${courseTitle} is on its way to your inbox.`
          : `You confirmed this subscription before and have had ${state.lessonsReceived} lesson${state.lessonsReceived === 1 ? '' : 's'} of ${courseTitle}; the next comes by email.`}
      </p>
      <p>You can pause the course or change your details on your {preferences}.</p>
    </Notice>
  )
}

/** A link for a subscription that has ended. */
export const Ended = () => (
  <Notice title="This subscription has ended">
    <p>
      This address no longer receives the course. To start again, <a href="/cure-back-pain-program">sign up</a> once
      more.
    </p>
  </Notice>
)

/** GET /unsubscribe/:token. */
export const UnsubscribePrompt = () => (
  <Notice title="Unsubscribe">
    <p>Press the button and we will send you no more emails from this course.</p>
    <ActionButton label="Unsubscribe me" />
  </Notice>
)

/** After unsubscribing. */
export const Unsubscribed = () => (
  <Notice title="You are unsubscribed">
    <p>You will receive no more emails from this course. Sorry to see you go.</p>
    <p>
      Changed your mind? You can <a href="/cure-back-pain-program">sign up again</a> at any time.
    </p>
  </Notice>
)

const statusText: Record<Subscriber['status'], string> = {
  pending: 'waiting for you to confirm your address',
  active: 'receiving lessons',
  paused: 'paused: no lessons until you resume',
  completed: 'completed: you have received every lesson',
  unsubscribed: 'unsubscribed',
  bounced: 'stopped: emails to this address could not be delivered',
  complained: 'stopped at your request',
}

/** GET /preferences/:token: the subscriber's state and what they can change. */
export const Preferences = (p: {
  subscriber: Subscriber
  courseTitle: string
  lessons: number
  timezones: string[]
  unsubscribeUrl: string
  errors?: Record<string, string>
  saved?: string
}) => {
  const s = p.subscriber
  const receives = s.status === 'active' || s.status === 'paused' || s.status === 'completed'
  return (
    <>
      <h1>Your preferences</h1>
      {p.saved ? <p class="notice">{p.saved}</p> : null}
      {p.errors ? (
        <p class="notice error" role="alert">
          {Object.entries(p.errors)
            .map(([field, problem]) => (field === 'form' ? problem : `${field} ${problem}`))
            .join('; ')}
        </p>
      ) : null}
      <p>
        {p.courseTitle} for {s.email}: {statusText[s.status]}. Lessons received: {s.lesson_position} of {p.lessons}.
      </p>
      <form class="signup" method="post">
        <h2>Your details</h2>
        <input type="hidden" name="action" value="save" />
        <p>
          <label for="pref-name">
            First name <span class="hint">(optional)</span>
          </label>
          <input
            id="pref-name"
            name="name"
            autocomplete="given-name"
            maxlength={50}
            value={s.first_name ?? ''}
            aria-invalid={p.errors?.name ? 'true' : undefined}
            aria-describedby={p.errors?.name ? 'pref-name-error' : undefined}
          />
        </p>
        {p.errors?.name ? (
          <p class="field-error" id="pref-name-error">
            {p.errors.name}
          </p>
        ) : null}
        <p>
          <label for="pref-tz">Time zone (lessons arrive in your morning)</label>
          <select id="pref-tz" name="timezone">
            {p.timezones.map((tz) => (
              <option value={tz} selected={tz === s.timezone}>
                {tz}
              </option>
            ))}
          </select>
        </p>
        <p>
          <button type="submit">Save</button>
        </p>
      </form>
      {receives ? (
        <section aria-labelledby="course-title">
          <h2 id="course-title">The course</h2>
          <div class="actions">
            {s.status === 'active' ? <CourseAction action="pause" label="Pause the course" /> : null}
            {s.status === 'paused' ? <CourseAction action="resume" label="Resume the course" /> : null}
            <CourseAction action="restart" label="Start again from lesson 1" />
          </div>
        </section>
      ) : null}
      {receives || s.status === 'pending' ? (
        <p>
          No longer interested? <a href={p.unsubscribeUrl}>Unsubscribe</a>.
        </p>
      ) : null}
    </>
  )
}

const CourseAction = ({ action, label }: { action: string; label: string }) => (
  <form method="post">
    <input type="hidden" name="action" value={action} />
    <button type="submit">{label}</button>
  </form>
)
