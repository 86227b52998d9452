import { Hono } from 'hono/tiny'
import { describeRoute, pageRoute } from '../lib/api'
import type { SiteContent } from '../site/content'
import { renderPage } from '../ui/page'
import { SignupForm, UTM_FIELDS } from '../ui/signup-form'
import { newsletterOf } from '../ui/types'
import { CheckInbox } from './render/pages'
import { DEFAULT_COURSE } from './schema'

/**
 * The one line a partner pastes into any page: it inserts the embeddable form in an iframe and
 * passes the host page's address, referrer and UTM parameters as attribution. No cookies.
 */
const embedScript = `(()=>{const s=document.currentScript;if(!s)return;const o=new URL(s.src).origin,q=new URLSearchParams(location.search),p=new URLSearchParams({landing:location.href,referrer:document.referrer,source:s.dataset.source||'embed',course:s.dataset.course||''});for(const k of ${JSON.stringify(UTM_FIELDS)})if(q.get(k))p.set(k,q.get(k));const f=document.createElement('iframe');f.src=o+'/embed/signup?'+p;f.title='Sign up for the course';f.loading='lazy';f.style.cssText='width:100%;max-width:34rem;height:40rem;border:0';addEventListener('message',e=>{const h=e.data&&e.data.spineEmbedHeight;if(e.origin===o&&e.source===f.contentWindow&&typeof h==='number'&&h>0)f.style.height=Math.min(Math.ceil(h),4000)+'px'});s.after(f)})()`

const text = (v: string | undefined, max: number) => (v ? v.slice(0, max) : undefined)

/** /embed.js, /embed/signup (framable by the listed origins only) and /embed/thanks. */
export function embedRoutes(content: SiteContent) {
  const app = new Hono<{ Bindings: Env }>()

  app.get(
    '/embed.js',
    describeRoute({
      summary: 'The embed script partners paste into a page',
      tags: ['signups'],
      responses: {
        200: { description: 'JavaScript', content: { 'text/javascript': { schema: { type: 'string' as const } } } },
      },
    }),
    (c) =>
      c.body(embedScript, 200, {
        'Content-Type': 'text/javascript; charset=utf-8',
        'Cache-Control': 'public, max-age=3600',
        // Loaded by other sites' pages: a script tag from another origin needs this to run.
        'Cross-Origin-Resource-Policy': 'cross-origin',
      }),
  )

  app.get(
    '/embed/signup',
    pageRoute('The embeddable signup form (framable by signupOrigins only)', {}, ['signups']),
    async (c) => {
      const settings = (await content.manifest(c.env.CONTENT)).settings
      const requested = c.req.query('course') || DEFAULT_COURSE
      const courseId = Object.hasOwn(settings.courses, requested) ? requested : DEFAULT_COURSE
      const course = settings.courses[courseId]
      if (!course) return c.notFound()
      const carried = Object.fromEntries(
        [...UTM_FIELDS, 'referrer'].flatMap((k) =>
          c.req.query(k) ? [[k, text(c.req.query(k), k === 'referrer' ? 2048 : 200)]] : [],
        ),
      )
      const body = (
        <SignupForm
          id="embed"
          course={courseId}
          consent={course.consent}
          newsletterConsent={newsletterOf(settings).consent}
          source={text(c.req.query('source'), 64) ?? 'embed'}
          landingPath={text(c.req.query('landing'), 2048)}
          carried={carried}
          heading={course.title}
          turnstileSiteKey={settings.turnstileSiteKey}
          embed
        />
      )
      return renderPage(
        settings,
        {
          title: course.title,
          description: course.title,
          withFormScript: true,
          embed: { framableBy: settings.signupOrigins ?? [] },
        },
        body,
      )
    },
  )

  app.get('/embed/thanks', pageRoute('After an embedded signup', {}, ['signups']), async (c) => {
    const settings = (await content.manifest(c.env.CONTENT)).settings
    return renderPage(
      settings,
      {
        title: 'Check your inbox',
        description: 'Confirm your subscription.',
        // The form script reports the page's height to the host's frame.
        withFormScript: true,
        embed: { framableBy: settings.signupOrigins ?? [] },
      },
      <CheckInbox />,
    )
  })

  return app
}
