/**
 * A client of the local Resend-speaking server's control routes (test/support/resend-server.ts),
 * for tests that run inside workerd and can only reach it with fetch.
 */
import type { AcceptedEmail, Faults, Stats } from './resend-server'

export function resendControl(url: string) {
  const call = async (path: string, body?: unknown) => {
    const res = await fetch(
      `${url}/__control/${path}`,
      body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) },
    )
    return res.json()
  }
  const accepted = async () => ((await call('emails')) as { emails: AcceptedEmail[] }).emails
  return {
    /** Makes the server fail calls from now on; `{}` makes it well again. */
    setFaults: (f: Faults) => call('faults', f),
    /** Forgets every email, key and fault. */
    reset: () => call('reset'),
    /** Every email the server accepted, in order. */
    accepted,
    /** The accepted emails to one address. */
    acceptedFor: async (to: string) => (await accepted()).filter((e) => e.email.to.includes(to)),
    /** Calls by status, accepted and dropped. */
    stats: async () => (await call('stats')) as Stats,
  }
}
