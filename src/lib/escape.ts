import { escapeToBuffer, type StringBuffer } from 'hono/utils/html'

/** HTML-escapes text with hono's own escaper (the one hono/jsx uses). */
export function escapeHtml(value: string): string {
  const buffer: StringBuffer = ['']
  escapeToBuffer(value, buffer)
  return buffer[0] as string
}
