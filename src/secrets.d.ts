// Secrets and optional settings: set with `wrangler secret put NAME` in production and in
// .dev.vars locally (see .dev.vars.example). Bindings and vars come from worker-configuration.d.ts.
declare namespace Cloudflare {
  interface Env {
    /** Resend API key; without it a local run keeps mail in the D1 outbox. */
    RESEND_API_KEY?: string
    /** Resend's API address; tests and the bench point it at a local server. */
    RESEND_BASE_URL?: string
    /** From address of every email; defaults to content/site.json's mailFrom. */
    MAIL_FROM?: string
    /** Key of the HMAC that signs confirm, unsubscribe and preferences links. */
    SIGNING_KEY?: string
    /** Bearer token of the admin API and dashboard; without it they answer 503. */
    ADMIN_TOKEN?: string
    /** Where subscriber events are POSTed (subscriber.created, .confirmed, … one for every transition). */
    WEBHOOK_URL?: string
    /** Key that signs those POSTs (Standard Webhooks, whsec_… or any base64 key). */
    WEBHOOK_SECRET?: string
    /** Signing secret of the Resend webhook (whsec_…), for POST /api/webhooks/resend. */
    RESEND_WEBHOOK_SECRET?: string
    /** Cloudflare Turnstile secret; when set, signups must carry a valid Turnstile token. */
    TURNSTILE_SECRET?: string
    /** Origin used in links in emails; defaults to content/site.json's baseUrl. */
    PUBLIC_URL?: string
  }
}
