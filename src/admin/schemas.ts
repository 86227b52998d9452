import * as v from 'valibot'
import { courseId, DEFAULT_COURSE, fields, strictMessage } from '../subscribers/schema'

/** The admin API's inputs; the routes validate with them and the OpenAPI document is made from them. */

export const STATUSES = ['pending', 'active', 'paused', 'completed', 'unsubscribed', 'bounced', 'complained'] as const
const day = v.optional(v.pipe(v.string(), v.isoDate('must be a date (YYYY-MM-DD)')))
/** A whole number in a query string, from `min` to `max`. */
const whole = (min: number, max: number) =>
  v.pipe(
    v.string(),
    v.regex(/^\d{1,6}$/, 'must be a whole number'),
    v.transform(Number),
    v.minValue(min, `must be ${min} to ${max}`),
    v.maxValue(max, `must be ${min} to ${max}`),
  )

/** Filters of the subscriber list and its CSV export. */
const filterFields = {
  status: v.optional(v.picklist(STATUSES, `must be one of ${STATUSES.join(', ')}`)),
  source: fields.source,
  utm_campaign: fields.utm,
  created_from: day,
  created_to: day,
  lesson_reached: v.optional(whole(0, 1000)),
}
export const listSchema = v.strictObject(
  { ...filterFields, limit: v.optional(whole(1, 500), '50'), cursor: v.optional(v.pipe(v.string(), v.maxLength(200))) },
  strictMessage,
)
export const exportSchema = v.strictObject(filterFields, strictMessage)

/** GET /api/admin/stats. */
export const statsSchema = v.strictObject({ from: day, to: day }, strictMessage)

/** POST /api/admin/test-email. */
export const testSchema = v.pipe(
  v.strictObject(
    {
      to: fields.email,
      email: v.picklist(
        ['confirmation', 'lesson', 'course-complete'],
        'must be confirmation, lesson or course-complete',
      ),
      course: v.optional(courseId, DEFAULT_COURSE),
      lesson: v.optional(
        v.pipe(
          v.number('must be a lesson number'),
          v.integer('must be a lesson number'),
          v.minValue(1, 'must be 1 or more'),
        ),
      ),
    },
    strictMessage,
  ),
  v.metadata({ ref: 'TestEmail' }),
)

/** /api/admin/people/:email. */
export const personSchema = v.object({ email: fields.email })
