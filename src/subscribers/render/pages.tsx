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

const SHOWN = new Set(['email', 'name', 'consent', 'newsletter', 'form'])

/**
 * The form again, with what went wrong beside each field and what the reader typed. The hidden
 * attribution of the refused post rides along, so a typo does not lose where the reader came from;
 * problems with fields the reader cannot see are named at the top.
 */
export const SignupAgain = (
  p: FormState & {
    courseId: string
    course: CourseSettings
    newsletterConsent: string
    raw: Record<string, unknown>
    turnstileSiteKey?: string
  },
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
        newsletterConsent={p.newsletterConsent}
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

/** GET /confirm/:token: the signup's course, or the newsletter a confirmed subscriber asked for since. */
export const ConfirmPrompt = (p: { courseTitle: string } | { newsletterTitle: string }) =>
  'courseTitle' in p ? (
    <Notice title="Confirm your subscription">
      <p>Press the button to confirm that you want to receive {p.courseTitle} by email. Lesson 1 follows shortly.</p>
      <ActionButton label="Yes, start the course" />
    </Notice>
  ) : (
    <Notice title="Confirm the new essays">
      <p>
        Press the button to confirm that you want {p.newsletterTitle}: each new essay by email. Whatever else you
        receive from us stays as it is.
      </p>
      <ActionButton label="Yes, email me new essays" />
    </Notice>
  )

/** GET /stay/:token: the re-engagement email's button lands here (a button again: scanners only GET). */
export const StayPrompt = () => (
  <Notice title="Keep getting our emails?">
    <p>Press the button and we will go on writing to you as before.</p>
    <ActionButton label="Yes, keep writing to me" />
  </Notice>
)

/** After staying. */
export const Stayed = ({ preferencesUrl }: { preferencesUrl: string }) => (
  <Notice title="Thank you: we will keep writing">
    <p>Nothing changes: you get what you asked for, as before.</p>
    <p>
      See and change every email you get on your <a href={preferencesUrl}>preferences page</a>.
    </p>
  </Notice>
)

/** After confirming the newsletter alone. */
export const NewsletterConfirmed = ({ title, preferencesUrl }: { title: string; preferencesUrl: string }) => (
  <Notice title="You will get the new essays">
    <p>Thank you for confirming: {title} will come by email, in your morning, at most one email a day.</p>
    <p>
      See and change every email you get on your <a href={preferencesUrl}>preferences page</a>.
    </p>
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

/** What an unsubscribe link leaves, in words: "the course", "New essays from …", or everything. */
export interface Leaving {
  topic: 'course' | 'newsletter' | 'all'
  /** The topic's name (the course's or the newsletter's title). */
  name: string
}

const leavingText = (l: Leaving) =>
  l.topic === 'all' ? 'any of our emails' : l.topic === 'newsletter' ? `${l.name}` : `emails from ${l.name}`

/** GET /unsubscribe/:token. */
export const UnsubscribePrompt = ({ leaving }: { leaving: Leaving }) => (
  <Notice title="Unsubscribe">
    <p>Press the button and we will send you no more {leavingText(leaving)}.</p>
    <ActionButton label="Unsubscribe me" />
  </Notice>
)

/** After unsubscribing: what stopped, what goes on, and where to change it. */
export const Unsubscribed = ({ leaving, preferencesUrl }: { leaving: Leaving; preferencesUrl: string }) => (
  <Notice title="You are unsubscribed">
    <p>You will receive no more {leavingText(leaving)}. Sorry to see you go.</p>
    {leaving.topic === 'all' ? (
      <p>
        Changed your mind? You can <a href="/cure-back-pain-program">sign up again</a> at any time.
      </p>
    ) : (
      <p>
        Anything else you asked for goes on. See and change every email you get on your{' '}
        <a href={preferencesUrl}>preferences page</a>.
      </p>
    )}
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
  newsletter: { title: string; consent: string }
  lessons: number
  timezones: string[]
  errors?: Record<string, string>
  saved?: string
}) => {
  const s = p.subscriber
  const receives = s.status === 'active' || s.status === 'paused' || s.status === 'completed'
  // The address still takes mail: a bounce or a complaint stopped everything for good.
  const mailable = s.status !== 'bounced' && s.status !== 'complained'
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
      <p>The emails {s.email} receives from us, each on its own.</p>
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
      <section aria-labelledby="course-title">
        <h2 id="course-title">{p.courseTitle}</h2>
        <p>
          {capitalized(statusText[s.status])}. Lessons received: {s.lesson_position} of {p.lessons}.
        </p>
        <div class="actions">
          {s.status === 'active' ? <CourseAction action="pause" label="Pause the course" /> : null}
          {s.status === 'paused' ? <CourseAction action="resume" label="Resume the course" /> : null}
          {receives ? <CourseAction action="restart" label="Start again from lesson 1" /> : null}
          {receives ? <CourseAction action="leave-course" label="Leave the course" /> : null}
          {s.status === 'unsubscribed' ? <CourseAction action="join-course" label="Take the course again" /> : null}
        </div>
      </section>
      {mailable ? (
        <section aria-labelledby="newsletter-title">
          <h2 id="newsletter-title">{p.newsletter.title}</h2>
          <p>{capitalized(newsletterText[s.newsletter ?? 'none'])}.</p>
          {s.newsletter === 'active' ? (
            <CourseAction action="leave-newsletter" label="Stop the new essays" />
          ) : s.status !== 'pending' ? (
            <form method="post">
              <input type="hidden" name="action" value="join-newsletter" />
              <p class="hint">{p.newsletter.consent}</p>
              <button type="submit">Email me new essays</button>
            </form>
          ) : null}
        </section>
      ) : null}
      {receives || s.status === 'pending' || s.newsletter === 'active' || s.newsletter === 'pending' ? (
        <section aria-labelledby="everything-title">
          <h2 id="everything-title">Unsubscribe from everything</h2>
          <p>No more emails of any kind from us, at once.</p>
          <CourseAction action="unsubscribe-all" label="Unsubscribe from everything" />
        </section>
      ) : null}
    </>
  )
}

const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1)

const newsletterText: Record<Subscriber['newsletter'], string> = {
  none: 'not subscribed',
  pending: 'starts when you confirm your address',
  active: 'subscribed: each new essay comes by email, in your morning',
  left: 'not subscribed (you left)',
}

const CourseAction = ({ action, label }: { action: string; label: string }) => (
  <form method="post">
    <input type="hidden" name="action" value={action} />
    <button type="submit">{label}</button>
  </form>
)
