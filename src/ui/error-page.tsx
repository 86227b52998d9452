import { renderPage } from './page'
import type { PublishedSettings } from './types'

const TITLES: Record<number, string> = {
  400: 'That request was not accepted',
  401: 'Please sign in',
  403: 'Not allowed',
  404: 'Not found',
  405: 'Not allowed here',
  409: 'That cannot be done now',
  413: 'Too large',
  415: 'Not a format we read',
  429: 'Too many requests',
}

/** A refusal as a page, for a browser: what went wrong, in the site's layout. */
export async function errorPage(
  settings: PublishedSettings,
  status: number,
  message: string,
  headers: Record<string, string>,
): Promise<Response> {
  const title = TITLES[status] ?? (status >= 500 ? 'Something went wrong' : 'That request was not accepted')
  const res = await renderPage(
    settings,
    { title, description: title, status },
    <>
      <h1>{title}</h1>
      <p class="notice error">{message}</p>
      <p>
        <a href="/">Back to the essays</a>
      </p>
    </>,
  )
  for (const [k, v] of Object.entries(headers)) res.headers.set(k, v)
  return res
}
