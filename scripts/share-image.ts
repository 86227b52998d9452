/**
 * Build step (Node): each page's share image (1200x630 PNG: the page's title and the site's name,
 * for link previews) and the site's bitmap icons (favicon.ico, apple-touch-icon.png), drawn from
 * text and the favicon's SVG with satori (layout to SVG) and resvg (SVG to PNG). No browser.
 */
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { Resvg } from '@resvg/resvg-js'
import satori from 'satori'
import { ICONS, SHARE_IMAGE } from '../src/site/render/share'
import { siteCss } from '../src/ui/styles'

/** A colour of the site's light palette (the first `--name:` in src/ui/styles.ts, its :root). */
function cssColor(name: string): string {
  const value = new RegExp(`--${name}:(#[0-9a-fA-F]{3,8})`).exec(siteCss)?.[1]
  if (!value) throw new Error(`src/ui/styles.ts has no --${name} colour for the share images`)
  return value
}
// Dark text on the page's own light background, the site's name in its accent colour.
const palette = { fg: cssColor('fg'), bg: cssColor('bg'), accent: cssColor('accent') }

// Inter Bold (SIL Open Font License 1.1, which allows embedding in images) as WOFF: satori reads
// TTF, OTF and WOFF, not WOFF2.
let fonts: Promise<{ name: string; data: Buffer; weight: 700; style: 'normal' }[]> | undefined
const loadFonts = () => {
  const file = createRequire(import.meta.url).resolve('@fontsource/inter/files/inter-latin-700-normal.woff')
  fonts ??= readFile(file).then((data) => [{ name: 'Inter', data, weight: 700, style: 'normal' }])
  return fonts
}

/** A satori element: React's shape without React. */
type Node = { type: string; props: Record<string, unknown> & { style?: Record<string, unknown> } }
const el = (type: string, style: Record<string, unknown>, children?: unknown, props: Record<string, unknown> = {}) =>
  ({ type, props: { ...props, style, children } }) satisfies Node

/** Long titles get a smaller type, so that four lines at most hold them (a fifth would be cut with an ellipsis). */
const titleSize = (title: string) => (title.length <= 40 ? 76 : title.length <= 80 ? 64 : 52)

function shareCard(title: string, siteName: string, iconSvg: string): Node {
  const icon = `data:image/svg+xml;base64,${Buffer.from(iconSvg).toString('base64')}`
  const inner = SHARE_IMAGE.width - 2 * 80
  return el(
    'div',
    {
      width: SHARE_IMAGE.width,
      height: SHARE_IMAGE.height,
      display: 'flex',
      flexDirection: 'column',
      backgroundColor: palette.bg,
      fontFamily: 'Inter',
      color: palette.fg,
    },
    [
      el('div', { display: 'flex', width: SHARE_IMAGE.width, height: 16, backgroundColor: palette.accent }),
      el('div', { display: 'flex', alignItems: 'center', width: inner, margin: '56px 80px 0' }, [
        el('img', { width: 64, height: 64, marginRight: 24 }, undefined, { src: icon, width: 64, height: 64 }),
        el('div', { fontSize: 40, fontWeight: 700, color: palette.accent }, siteName),
      ]),
      el('div', { display: 'flex', flexGrow: 1, alignItems: 'center', width: inner, margin: '0 80px 56px' }, [
        el(
          'div',
          {
            display: 'block',
            width: inner,
            fontSize: titleSize(title),
            fontWeight: 700,
            lineHeight: 1.15,
            lineClamp: 4,
            textWrap: 'balance',
          },
          title,
        ),
      ]),
    ],
  )
}

/** Renders an SVG to PNG bytes at its own size (or `width` wide), with no system fonts. */
export function svgToPng(svg: string, o: { width?: number; background?: string } = {}): Buffer {
  return new Resvg(svg, {
    fitTo: o.width ? { mode: 'width', value: o.width } : { mode: 'original' },
    font: { loadSystemFonts: false },
    ...(o.background ? { background: o.background } : {}),
  })
    .render()
    .asPng()
}

/** The share image of one page, as PNG bytes: the site's icon and name above the page's title. */
export async function shareImage(title: string, siteName: string, iconSvg: string): Promise<Buffer> {
  const { width, height } = SHARE_IMAGE
  return svgToPng(await satori(shareCard(title, siteName, iconSvg), { width, height, fonts: await loadFonts() }))
}

/**
 * An ICO file holding PNG images (each entry stores the PNG whole, which every browser since
 * Windows Vista's era reads): a 6-byte header, a 16-byte entry per image, then the images.
 */
export function icoOf(pngs: { size: number; png: Buffer }[]): Buffer {
  const header = Buffer.alloc(6)
  header.writeUInt16LE(0, 0) // reserved
  header.writeUInt16LE(1, 2) // 1: icon
  header.writeUInt16LE(pngs.length, 4)
  let offset = 6 + 16 * pngs.length
  const entries = pngs.map(({ size, png }) => {
    const e = Buffer.alloc(16)
    e.writeUInt8(size >= 256 ? 0 : size, 0) // width (0 means 256)
    e.writeUInt8(size >= 256 ? 0 : size, 1) // height
    e.writeUInt8(0, 2) // no palette
    e.writeUInt8(0, 3) // reserved
    e.writeUInt16LE(1, 4) // colour planes
    e.writeUInt16LE(32, 6) // bits per pixel
    e.writeUInt32LE(png.length, 8)
    e.writeUInt32LE(offset, 12)
    offset += png.length
    return e
  })
  return Buffer.concat([header, ...entries, ...pngs.map((p) => p.png)])
}

/**
 * The site's icon as bitmaps for the clients that do not take SVG: favicon.ico (16, 32 and 48 px)
 * and the 180 px apple-touch-icon. iOS rounds the touch icon's corners itself, so its square is
 * filled with `background` instead of showing the SVG's transparent corners.
 */
export function iconImages(iconSvg: string, background: string): { ico: Buffer; appleTouch: Buffer } {
  const ico = icoOf(ICONS.ico.sizes.map((size) => ({ size, png: svgToPng(iconSvg, { width: size }) })))
  return { ico, appleTouch: svgToPng(iconSvg, { width: ICONS.appleTouch.size, background }) }
}
