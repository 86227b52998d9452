import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { adminSession, attrsOf, get, makeSubscriber, publish, subscriberCount, textsOf } from './helpers'

const TOKEN = 'admin-token-for-tests-only-not-a-secret-0123'
const admin: Env = { ...env, ADMIN_TOKEN: TOKEN }
const HEADER = 'email,first_name,status,consent_at,consent_text'

const signIn = () => adminSession(admin)

/** A form as a browser posts it, multipart/form-data. */
const post = (path: string, form: FormData, cookie = session) =>
  get(path, { method: 'POST', redirect: 'manual', body: form, headers: cookie ? { Cookie: cookie } : {} }, admin)

/** A form with one file field, as the upload form sends it. */
const fileForm = (content: string | Uint8Array, name = 'subscribers.csv', type = 'text/csv') => {
  const form = new FormData()
  form.append('file', new File([content], name, { type }))
  return form
}

/** An attribute's value as the browser reads it (HTMLRewriter gives it with its entities). */
const decodeEntities = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')

/** The check page's import form as a browser submits it: its hidden fields, line ends made CRLF. */
async function confirmForm(html: string) {
  const form = new FormData()
  const names = await attrsOf(html, 'form[action="/admin/import/run"] input[type=hidden]', 'name')
  const values = await attrsOf(html, 'form[action="/admin/import/run"] input[type=hidden]', 'value')
  for (const [i, name] of names.entries())
    form.append(name, decodeEntities(values[i] ?? '').replace(/\r\n|\r|\n/g, '\r\n'))
  return form
}

const statusOf = async (email: string) =>
  env.DB.prepare('SELECT status, next_send_at, first_name FROM subscribers WHERE email = ?')
    .bind(email)
    .first<{ status: string; next_send_at: number | null; first_name: string | null }>()

let session = ''

beforeAll(async () => {
  await publish(inject('siteBuild'))
  session = await signIn()
})

describe('signed out', () => {
  it('is sent to the sign-in page from every step, and nothing is stored', async () => {
    const before = await subscriberCount()
    const page = await get('/admin/import', { redirect: 'manual' }, admin)
    expect(page.status).toBe(303)
    expect(page.headers.get('location')).toBe('/admin/sign-in')
    for (const step of ['check', 'run']) {
      const res = await post(
        `/admin/import/${step}`,
        fileForm(`${HEADER}\r\nout@example.com,Ann,active,2026-11-01T10:00:00Z,I agree`),
        '',
      )
      expect(res.status).toBe(303)
      expect(res.headers.get('location')).toBe('/admin/sign-in')
    }
    expect(await subscriberCount()).toBe(before)
  })
})

describe('the upload page', () => {
  it('explains the columns, says active rows will be mailed, and has a labelled file upload to the check', async () => {
    const res = await get('/admin/import', { headers: { Cookie: session } }, admin)
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toContain('no-store')
    const html = await res.text()
    expect(await textsOf(html, 'h1')).toEqual(['Import subscribers'])
    expect(await textsOf(html, 'h2')).toEqual(['Check a file', 'The columns'])
    // Every column of the export, the three required ones marked.
    const columns = await textsOf(html, 'tbody th')
    expect(columns).toEqual(expect.arrayContaining(['email', 'consent_at', 'consent_text', 'status', 'utm_campaign']))
    const needed = await textsOf(html, 'tbody td:nth-child(2)')
    expect(columns.filter((_, i) => needed[i] === 'Required')).toEqual(['email', 'consent_at', 'consent_text'])
    expect((await textsOf(html, '.notice')).join(' ')).toMatch(
      /active subscriber at once and will be mailed the course/,
    )
    // A plain multipart form, a labelled file field taking CSV.
    expect(await attrsOf(html, 'main form', 'action')).toEqual(['/admin/import/check'])
    expect(await attrsOf(html, 'main form', 'enctype')).toEqual(['multipart/form-data'])
    expect(await attrsOf(html, 'input[type=file]', 'accept')).toEqual(['.csv,text/csv'])
    expect(await attrsOf(html, 'input[type=file]', 'id')).toEqual(['import-file'])
    expect(await textsOf(html, 'label[for=import-file]')).toEqual(['CSV file'])
    // The CSP forbids inline styles, and nothing needs a script.
    expect(html).not.toMatch(/\sstyle=|<script/)
  })
})

describe('checking, then importing', () => {
  const csv = [
    HEADER,
    `ann.check@example.com,Ann-Marie O'Neil,active,2026-11-01T10:00:00Z,"I agree to ""the course"" <b>, & more"`,
    'not-an-email,Bob,active,2026-11-01T10:00:00Z,I agree',
    'cy.check@example.com,Cy,pending,2026-11-02T10:00:00+01:00,I agree',
    'dee.check@example.com,Dee,,2026-11-02T10:00:00Z,I agree',
  ].join('\n')
  let checked = ''

  it('shows the dry run: rows that would be taken, each refused row with its line and reasons; stores nothing', async () => {
    const before = await subscriberCount()
    const res = await post('/admin/import/check', fileForm(csv))
    expect(res.status).toBe(200)
    checked = await res.text()
    expect(await subscriberCount()).toBe(before)
    expect(await statusOf('ann.check@example.com')).toBeNull()
    expect(await textsOf(checked, 'h1')).toEqual(['Import: check of subscribers.csv'])
    expect((await textsOf(checked, '.notice'))[0]).toBe(
      'Nothing has been imported yet. 3 rows would be taken, 1 row refused.',
    )
    expect(await textsOf(checked, 'table.refused tbody td')).toEqual([
      '3',
      'not-an-email',
      expect.stringContaining('email'),
    ])
    // Plainly: active rows become active subscribers and are mailed.
    expect((await textsOf(checked, '.notice')).join(' ')).toMatch(
      /Imported rows become subscribers and will be mailed\..*active subscriber at once and will be mailed the course/,
    )
    expect(await textsOf(checked, 'form[action="/admin/import/run"] button')).toEqual(['Import 3 subscribers'])
    expect(await attrsOf(checked, 'form[action="/admin/import/run"]', 'enctype')).toEqual(['multipart/form-data'])
    // The CSV itself travels in the form, unchanged (quotes, commas and markup included).
    const carried = await attrsOf(checked, 'input[name=csv]', 'value')
    expect(carried.map(decodeEntities)).toEqual([csv])
    expect(checked).not.toMatch(/\sstyle=|<script/)
  })

  it('imports the same CSV from the check page, with each row in its status, and says what was taken', async () => {
    const before = await subscriberCount()
    const res = await post('/admin/import/run', await confirmForm(checked))
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(await subscriberCount()).toBe(before + 3)
    expect(await textsOf(html, 'h1')).toEqual(['Imported 3 subscribers'])
    expect((await textsOf(html, '.notice'))[0]).toMatch(
      /^3 rows of subscribers\.csv taken, 1 row refused\. .*will be mailed/,
    )
    expect(await textsOf(html, 'table.refused tbody td')).toEqual([
      '3',
      'not-an-email',
      expect.stringContaining('email'),
    ])
    // Active rows (an empty status included) are due at once; the pending one waits.
    const ann = await statusOf('ann.check@example.com')
    expect(ann).toMatchObject({ status: 'active', first_name: "Ann-Marie O'Neil" })
    expect(ann?.next_send_at).toEqual(expect.any(Number))
    expect(await statusOf('dee.check@example.com')).toMatchObject({ status: 'active' })
    expect(await statusOf('cy.check@example.com')).toMatchObject({ status: 'pending', next_send_at: null })
    // The API lists them too.
    const listed = (await (
      await get('/api/admin/subscribers?limit=100', { headers: { Authorization: `Bearer ${TOKEN}` } }, admin)
    ).json()) as { subscribers: { email: string; status: string }[] }
    expect(listed.subscribers.filter((s) => s.email.endsWith('.check@example.com'))).toHaveLength(3)
    // The marketer's endpoint hears of each, as after the API's import.
    const heard = async () => {
      try {
        const received = (await (await fetch(`${inject('hookUrl')}/__received`)).json()) as { body: string }[]
        return received.filter((r) => r.body.includes('"subscriber.imported"') && r.body.includes('.check@example.com'))
          .length
      } catch {
        return 0 // the endpoint is busy receiving; ask again
      }
    }
    for (let i = 0; i < 200 && (await heard()) < 3; i++) await new Promise((r) => setTimeout(r, 25))
    expect(await heard()).toBe(3)
  })

  it('refuses every row of the same CSV a second time, with 422 and the reasons, storing nothing', async () => {
    const before = await subscriberCount()
    const res = await post('/admin/import/run', await confirmForm(checked))
    expect(res.status).toBe(422)
    const html = await res.text()
    expect(await subscriberCount()).toBe(before)
    expect(await textsOf(html, 'h1')).toEqual(['Nothing imported'])
    expect(await textsOf(html, 'table.refused tbody td:nth-child(1)')).toEqual(['2', '3', '4', '5'])
    expect(await textsOf(html, 'table.refused tbody td:nth-child(3)')).toEqual([
      'is already subscribed to this course',
      expect.stringContaining('email'),
      'is already subscribed to this course',
      'is already subscribed to this course',
    ])
  })
})

describe('a CSV whose every row is refused', () => {
  it('answers the check with 422, the reasons, and no import button; nothing stored', async () => {
    await makeSubscriber({ email: 'there.already@example.com' })
    const before = await subscriberCount()
    const csv = [HEADER, 'there.already@example.com,Ed,active,2026-11-01T10:00:00Z,I agree', 'nobody,,vip,,'].join(
      '\r\n',
    )
    const res = await post('/admin/import/check', fileForm(csv))
    expect(res.status).toBe(422)
    const html = await res.text()
    expect(await subscriberCount()).toBe(before)
    expect(await textsOf(html, '.notice.error')).toEqual([
      'Every row was refused: there is nothing to import. Fix the rows below and check the file again.',
    ])
    expect(await textsOf(html, 'table.refused tbody td:nth-child(1)')).toEqual(['2', '3'])
    const reasons = await textsOf(html, 'table.refused tbody td:nth-child(3)')
    expect(reasons[0]).toBe('is already subscribed to this course')
    for (const field of ['email', 'status', 'consent_at', 'consent_text']) expect(reasons[1]).toContain(field)
    expect(await attrsOf(html, 'form', 'action')).not.toContain('/admin/import/run')
  })
})

describe('bad input', () => {
  const good = `${HEADER}\r\nbad.input@example.com,Ann,active,2026-11-01T10:00:00Z,I agree\r\n`
  const big = () => {
    // LF line ends: over 5 MB however a browser sends them.
    const row = 'padding.row@example.com,Somebody,active,2026-11-01T10:00:00Z,I agree to the course\n'
    return `${HEADER}\n${row.repeat(Math.ceil((5 << 20) / row.length) + 1)}`
  }
  const cases: [string, () => FormData, number, RegExp][] = [
    ['no file at all', () => new FormData(), 400, /^No file was chosen/],
    [
      'a file field with no file chosen',
      () => {
        const f = new FormData()
        f.append('file', new File([], '', { type: 'application/octet-stream' }))
        return f
      },
      400,
      /^No file was chosen/,
    ],
    ['an empty file', () => fileForm('', 'empty.csv'), 400, /^empty\.csv is empty/],
    ['a file of blank lines', () => fileForm('\r\n\r\n', 'blank.csv'), 400, /^blank\.csv is empty/],
    ['a header and no rows', () => fileForm(`${HEADER}\r\n`, 'header.csv'), 400, /^header\.csv has no rows/],
    ['a file over 5 MB', () => fileForm(big(), 'big.csv'), 413, /^big\.csv is 5\.\d MB: an import takes at most 5 MB/],
    ['a body far over 5 MB', () => fileForm(big().repeat(3), 'huge.csv'), 413, /at most 5 MB/],
    [
      'an image',
      () =>
        fileForm(
          new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
          'photo.png',
          'image/png',
        ),
      415,
      /^photo\.png is not a CSV file \(it is image\/png\)/,
    ],
    [
      'an Excel workbook',
      () =>
        fileForm(
          new Uint8Array([0x50, 0x4b, 3, 4, 20, 0, 6, 0]),
          'list.xlsx',
          'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        ),
      415,
      /Save the workbook as “CSV UTF-8”/,
    ],
    [
      'a .csv that is not UTF-8 text',
      () => fileForm(new Uint8Array([...new TextEncoder().encode(`${HEADER}\r\n`), 0xe9, 0xff, 0xfe]), 'latin.csv'),
      415,
      /^latin\.csv is not UTF-8 text/,
    ],
    [
      'a .csv holding binary data',
      () => fileForm(new Uint8Array([0x65, 0x6d, 0, 0x61, 0x69, 0x6c]), 'binary.csv'),
      415,
      /^binary\.csv holds binary data/,
    ],
  ]

  for (const step of ['check', 'run'])
    for (const [what, form, status, problem] of cases)
      it(`${step}: ${what} gets ${status}, a page naming the problem, and nothing stored`, async () => {
        const before = await subscriberCount()
        const res = await post(`/admin/import/${step}`, form())
        expect(res.status).toBe(status)
        expect(res.headers.get('content-type')).toContain('text/html')
        const html = await res.text()
        const [notice, ...more] = await textsOf(html, '.notice.error')
        expect(more).toEqual([])
        expect(notice).toMatch(problem)
        // The upload form again, to choose another file.
        expect(await attrsOf(html, 'input[type=file]', 'name')).toEqual(['file'])
        expect(await subscriberCount()).toBe(before)
        expect(await statusOf('bad.input@example.com')).toBeNull()
      })

  it('run: a carried CSV over 5 MB gets 413, and nothing stored', async () => {
    const before = await subscriberCount()
    const form = new FormData()
    form.append('name', 'big.csv')
    form.append('csv', big())
    const res = await post('/admin/import/run', form)
    expect(res.status).toBe(413)
    expect((await textsOf(await res.text(), '.notice.error'))[0]).toMatch(/^big\.csv is 5\.\d MB/)
    expect(await subscriberCount()).toBe(before)
  })

  it('a good file, with the BOM a spreadsheet writes, still goes through after all that', async () => {
    const res = await post('/admin/import/check', fileForm(`\uFEFF${good}`))
    expect(res.status).toBe(200)
    expect(await textsOf(await res.text(), 'form[action="/admin/import/run"] button')).toEqual(['Import 1 subscriber'])
  })
})
