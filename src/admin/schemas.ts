import { z } from 'zod'
import { DEFAULT_COURSE } from '../subscribers/schema'

/** The admin API's inputs; the routes validate with them and the OpenAPI document is made from them. */

const STATUSES = ['pending', 'active', 'paused', 'completed', 'unsubscribed', 'bounced', 'complained'] as const
const day = z.iso.date('must be a date (YYYY-MM-DD)')

/** Filters of the subscriber list and its CSV export. */
const filterFields = {
  status: z.enum(STATUSES, { error: `must be one of ${STATUSES.join(', ')}` }).optional(),
  source: z.string().max(64, 'must be at most 64 characters').optional(),
  utm_campaign: z.string().max(200, 'must be at most 200 characters').optional(),
  created_from: day.optional(),
  created_to: day.optional(),
  lesson_reached: z.coerce
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .min(0)
    .max(1000)
    .optional(),
}
export const listSchema = z.strictObject({
  ...filterFields,
  limit: z.coerce
    .number({ error: 'must be a whole number' })
    .int()
    .min(1, 'must be 1 to 500')
    .max(500, 'must be 1 to 500')
    .default(50),
  cursor: z.string().max(200).optional(),
})
export const exportSchema = z.strictObject(filterFields)

/** GET /api/admin/stats. */
export const statsSchema = z.strictObject({ from: day.optional(), to: day.optional() })

/** POST /api/admin/test-email. */
export const testSchema = z.strictObject({
  to: z.email('must be an email address'),
  email: z.enum(['confirmation', 'lesson', 'course-complete'], {
    error: 'must be confirmation, lesson or course-complete',
  }),
  course: z.string().max(64).default(DEFAULT_COURSE),
  lesson: z.number({ error: 'must be a lesson number' }).int().min(1).optional(),
})

/** /api/admin/people/:email. */
export const personSchema = z.object({ email: z.email('must be an email address') })
