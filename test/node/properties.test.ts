import fc from 'fast-check'
import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { localTime, movedToZone, nextLessonAt } from '../../src/lib/schedule'
import { signToken, type TokenPurpose, verifyToken } from '../../src/lib/tokens'
import { signupSchema } from '../../src/subscribers/schema'

const ZONES = [
  'UTC',
  'America/Los_Angeles',
  'America/New_York',
  'Europe/London',
  'Europe/Berlin',
  'Asia/Kolkata',
  'Asia/Tokyo',
  'Australia/Adelaide',
  'Pacific/Auckland',
  'Pacific/Chatham',
  'America/St_Johns',
]
const PURPOSES: TokenPurpose[] = ['confirm', 'unsubscribe', 'preferences']

describe('the schedule, for thousands of generated moments, zones and settings', () => {
  it('always lands at the send hour, local time, days later, and never on a weekend when they are skipped', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2030, 11, 31) }),
        fc.constantFrom(...ZONES),
        fc.record({
          daysBetween: fc.integer({ min: 1, max: 14 }),
          sendHour: fc.integer({ min: 4, max: 22 }),
          skipWeekends: fc.boolean(),
        }),
        (sentAt, zone, s) => {
          const next = nextLessonAt(sentAt, zone, s)
          const local = localTime(next, zone)
          expect(local.hour).toBe(s.sendHour)
          expect(local.minute).toBe(0)
          const sent = localTime(sentAt, zone)
          const days =
            (Date.UTC(local.year, local.month - 1, local.day) - Date.UTC(sent.year, sent.month - 1, sent.day)) /
            86_400_000
          expect(days).toBeGreaterThanOrEqual(s.daysBetween)
          expect(days).toBeLessThanOrEqual(s.daysBetween + (s.skipWeekends ? 2 : 0))
          if (s.skipWeekends)
            expect([0, 6]).not.toContain(new Date(Date.UTC(local.year, local.month - 1, local.day)).getUTCDay())
        },
      ),
      { numRuns: 3000 },
    )
  })
})

describe('a subscriber moving to another time zone, for thousands of generated moves', () => {
  it('gets the next lesson at the send hour of the new zone, never in the past, never on a skipped weekend', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2030, 11, 31) }),
        fc.integer({ min: 1, max: 14 * 86_400_000 }),
        fc.constantFrom(...ZONES),
        fc.constantFrom(...ZONES),
        fc.record({
          daysBetween: fc.integer({ min: 1, max: 14 }),
          sendHour: fc.integer({ min: 4, max: 22 }),
          skipWeekends: fc.boolean(),
        }),
        (now, ahead, from, to, s) => {
          const moved = movedToZone(now + ahead, from, to, s, now)
          const local = localTime(moved, to)
          expect(moved).toBeGreaterThan(now)
          expect(local.hour).toBe(s.sendHour)
          if (s.skipWeekends)
            expect([0, 6]).not.toContain(new Date(Date.UTC(local.year, local.month - 1, local.day)).getUTCDay())
          // Never more than a few days from the local day it was due on (a weekend, or a day already past).
          const was = localTime(now + ahead, from)
          const days =
            (Date.UTC(local.year, local.month - 1, local.day) - Date.UTC(was.year, was.month - 1, was.day)) / 86_400_000
          expect(days).toBeGreaterThanOrEqual(0)
          expect(days).toBeLessThanOrEqual(4)
        },
      ),
      { numRuns: 3000 },
    )
  })
})

describe('signed links, for thousands of generated subscribers', () => {
  it('verify for their own purpose only, and never once a character is changed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uuid(),
        fc.constantFrom(...PURPOSES),
        fc.constantFrom(...PURPOSES),
        fc.nat(),
        async (id, purpose, other, at) => {
          const now = Date.UTC(2026, 10, 25)
          const token = await signToken('property-test-key-0123456789', purpose, id, { now, ttlSeconds: 3600 })
          expect(await verifyToken('property-test-key-0123456789', purpose, token, now)).toEqual({
            ok: true,
            subscriberId: id,
          })
          if (other !== purpose)
            expect((await verifyToken('property-test-key-0123456789', other, token, now)).ok).toBe(false)
          const i = at % token.length
          const flipped = `${token.slice(0, i)}${token[i] === 'A' ? 'B' : 'A'}${token.slice(i + 1)}`
          expect((await verifyToken('property-test-key-0123456789', purpose, flipped, now)).ok).toBe(false)
          expect((await verifyToken('property-test-key-0123456789', purpose, token, now + 3_600_001)).ok).toBe(false)
        },
      ),
      { numRuns: 1000 },
    )
  })
})

describe('the signup schema, for thousands of generated bodies', () => {
  it('never throws, and what it accepts is one line, bounded, and a real address', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            email: fc.oneof(fc.emailAddress(), fc.string(), fc.constant('a@b.co\r\nBcc: x@y.z')),
            name: fc.oneof(fc.string(), fc.constantFrom('Zoë', "O'Neil", '<b>x</b>', 'A\nB')),
            consent: fc.string(),
            timezone: fc.oneof(fc.constantFrom(...ZONES), fc.string()),
            utm_campaign: fc.string({ maxLength: 300 }),
          },
          { requiredKeys: [] },
        ),
        (body) => {
          const r = v.safeParse(signupSchema, body)
          if (!r.success) return
          expect(r.output.email).not.toMatch(/[\s<>]/)
          expect(r.output.email.length).toBeLessThanOrEqual(254)
          expect(r.output.name ?? '').not.toMatch(/[\p{Cc}\p{Cf}<>]/u)
          expect((r.output.utm_campaign ?? '').length).toBeLessThanOrEqual(200)
          expect(r.output.utm_campaign ?? '').not.toMatch(/[\p{Cc}\u202A-\u202E\u2066-\u2069]/u)
        },
      ),
      { numRuns: 5000 },
    )
  })
})
