/** The icon's ground: the site's accent colour (src/ui/styles.ts). */
export const faviconColor = '#0b5cad'

/** The site's icon: a small SVG, published at /favicon.svg and linked from every page. */
export const faviconSvg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="${faviconColor}"/><path d="M16 5v22M11 9h10M10 14h12M11 19h10M12 24h8" stroke="#fff" stroke-width="2.5" stroke-linecap="round"/></svg>`
