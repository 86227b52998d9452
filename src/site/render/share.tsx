import { absoluteUrl } from '../../ui/components'
import type { SiteSettings } from '../../ui/types'

/** What a page's share image is (for link previews), where the build publishes it and what it says. */
export const SHARE_IMAGE = { width: 1200, height: 630, type: 'image/png' } as const

/**
 * Where the build publishes a page's share image.
 * @example shareImagePath('/') // '/og/index.png'
 * @example shareImagePath('/back-pain/x') // '/og/back-pain/x.png'
 */
export const shareImagePath = (pagePath: string) => `/og${pagePath === '/' ? '/index' : pagePath}.png`

/** The image's alt text: the words it shows. */
export const shareImageAlt = (title: string, siteName: string) => `${title} (${siteName})`

/** The site's bitmap icons, for clients that do not take /favicon.svg. */
export const ICONS = {
  ico: { path: '/favicon.ico', contentType: 'image/x-icon', sizes: [16, 32, 48] },
  appleTouch: { path: '/apple-touch-icon.png', contentType: 'image/png', size: 180 },
} as const

/** The head tags that name a page's share image, for Open Graph readers and X's large card. */
export const ShareImageMeta = ({ site, title, path }: { site: SiteSettings; title: string; path: string }) => {
  const url = absoluteUrl(site, shareImagePath(path))
  const alt = shareImageAlt(title, site.name)
  return (
    <>
      <meta property="og:image" content={url} />
      <meta property="og:image:type" content={SHARE_IMAGE.type} />
      <meta property="og:image:width" content={String(SHARE_IMAGE.width)} />
      <meta property="og:image:height" content={String(SHARE_IMAGE.height)} />
      <meta property="og:image:alt" content={alt} />
      <meta name="twitter:card" content="summary_large_image" />
      <meta name="twitter:image" content={url} />
      <meta name="twitter:image:alt" content={alt} />
    </>
  )
}
