/** The fields a signup form posts; the same names are accepted as JSON by POST /api/subscribe. */
export type SignupField = 'email' | 'name' | 'consent' | 'newsletter' | 'form'

/** Messages shown beside fields when a signup is refused, and what the reader had typed. */
export interface FormState {
  errors?: Partial<Record<SignupField, string>>
  values?: { email?: string; name?: string; newsletter?: boolean }
}

/** Props of {@link SignupForm}. */
export interface SignupFormProps extends FormState {
  /** Unique per page, so two forms on one page keep their labels apart. */
  id: string
  course: string
  consent: string
  /** The newsletter's consent wording: an optional, unticked second box. */
  newsletterConsent?: string
  /** Which form this is, for attribution (e.g. `essay-end`, `program-page`). */
  source: string
  /** The page the form is on; the Referer header may be stripped by the reader's browser. */
  landingPath?: string
  heading?: string
  /** Attribution a refused post carried, kept for the next try. */
  carried?: Partial<Record<'timezone' | 'referrer' | (typeof UTM_FIELDS)[number], string>>
  /** Posted from the embeddable form: the answer stays inside the frame. */
  embed?: boolean
  /** Shows Cloudflare Turnstile's widget, whose token the server checks when TURNSTILE_SECRET is set. */
  turnstileSiteKey?: string
}

/** The UTM parameters a signup records. */
export const UTM_FIELDS = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'] as const

const errorId = (id: string, field: SignupField) => `${id}-${field}-error`

const FieldError = ({ id, field, errors }: { id: string; field: SignupField; errors?: FormState['errors'] }) =>
  errors?.[field] ? (
    <p class="field-error" id={errorId(id, field)}>
      {errors[field]}
    </p>
  ) : null

/**
 * The program's signup form. Works with no JavaScript; a small inline script only fills in the
 * reader's time zone. Rendered into pages at build time and again, with errors, by the Worker.
 */
export const SignupForm = (p: SignupFormProps) => {
  const described = (field: SignupField) => (p.errors?.[field] ? errorId(p.id, field) : undefined)
  return (
    <form
      class="signup"
      method="post"
      action="/api/subscribe"
      aria-labelledby={`${p.id}-title`}
      // In the embed every link opens outside the frame (<base target="_top">); the answer stays inside.
      target={p.embed ? '_self' : undefined}
    >
      <h2 id={`${p.id}-title`}>{p.heading ?? 'Join the free course'}</h2>
      <FieldError id={p.id} field="form" errors={p.errors} />
      <input type="hidden" name="course" value={p.course} />
      <input type="hidden" name="source" value={p.source} />
      {p.embed ? <input type="hidden" name="embed" value="1" /> : null}
      {p.landingPath ? <input type="hidden" name="landing_path" value={p.landingPath} /> : null}
      {/* Filled by the signup script when JavaScript runs (unless a refused post carried them); the server falls back without it. */}
      {(['timezone', 'referrer', ...UTM_FIELDS] as const).map((name) => (
        <input type="hidden" name={name} value={p.carried?.[name] ?? ''} />
      ))}
      <p>
        <label for={`${p.id}-name`}>
          First name <span class="hint">(optional)</span>
        </label>
        <input
          id={`${p.id}-name`}
          name="name"
          autocomplete="given-name"
          maxlength={50}
          value={p.values?.name}
          aria-invalid={p.errors?.name ? 'true' : undefined}
          aria-describedby={described('name')}
        />
      </p>
      <FieldError id={p.id} field="name" errors={p.errors} />
      <p>
        <label for={`${p.id}-email`}>Email address</label>
        <input
          id={`${p.id}-email`}
          name="email"
          type="email"
          required
          autocomplete="email"
          maxlength={254}
          value={p.values?.email}
          aria-invalid={p.errors?.email ? 'true' : undefined}
          aria-describedby={described('email')}
        />
      </p>
      <FieldError id={p.id} field="email" errors={p.errors} />
      <p class="consent">
        <input
          id={`${p.id}-consent`}
          name="consent"
          type="checkbox"
          value={p.consent}
          required
          aria-invalid={p.errors?.consent ? 'true' : undefined}
          aria-describedby={described('consent')}
        />
        <label for={`${p.id}-consent`}>{p.consent}</label>
      </p>
      <FieldError id={p.id} field="consent" errors={p.errors} />
      {p.newsletterConsent ? (
        <>
          <p class="consent">
            <input
              id={`${p.id}-newsletter`}
              name="newsletter"
              type="checkbox"
              value={p.newsletterConsent}
              checked={p.values?.newsletter || undefined}
              aria-invalid={p.errors?.newsletter ? 'true' : undefined}
              aria-describedby={described('newsletter')}
            />
            <label for={`${p.id}-newsletter`}>{p.newsletterConsent}</label>
          </p>
          <FieldError id={p.id} field="newsletter" errors={p.errors} />
        </>
      ) : null}
      <p class="hp" aria-hidden="true">
        <label for={`${p.id}-website`}>Leave this field empty</label>
        <input id={`${p.id}-website`} name="website" tabindex={-1} autocomplete="off" />
      </p>
      {p.turnstileSiteKey ? <div class="cf-turnstile" data-sitekey={p.turnstileSiteKey} /> : null}
      <p>
        <button type="submit">Send me lesson 1</button>
      </p>
      <p class="hint">We ask you to confirm by email first. No spam, and one click unsubscribes you.</p>
    </form>
  )
}

/** Where the signup script is published; pages with a form load it deferred (never render-blocking). */
export const SIGNUP_SCRIPT_PATH = '/assets/signup.js'

/**
 * Fills every signup form's time zone, referrer and UTM fields from the browser. The form works
 * without it: the server then uses the request's time zone and the Referer's query. Served as a
 * file so the CSP needs no inline script.
 */
export const signupScript =
  // Framed (the embed): tell the host page how tall the content is, so its frame fits it.
  "(()=>{if(parent!==window){const h=()=>parent.postMessage({spineEmbedHeight:document.documentElement.getBoundingClientRect().height},'*');addEventListener('load',h);new ResizeObserver(h).observe(document.body)}})();" +
  // The time zone is asked for when the reader starts on the form (focus) or sends it (submit runs
  // before the form's data are read), not at load: the first Intl call loads the browser's ICU data,
  // tens of milliseconds of main thread that every reader of the page would otherwise wait through.
  "(()=>{const q=new URLSearchParams(location.search);for(const f of document.querySelectorAll('form.signup')){const s=(n,v)=>{const i=f.elements.namedItem(n);if(i&&v&&!i.value)i.value=v};const z=()=>{try{s('timezone',Intl.DateTimeFormat().resolvedOptions().timeZone)}catch(e){}};f.addEventListener('focusin',z,{once:true});f.addEventListener('submit',z);s('referrer',document.referrer);for(const k of['utm_source','utm_medium','utm_campaign','utm_term','utm_content'])s(k,q.get(k))}})()"
