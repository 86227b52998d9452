/**
 * The interactive API reference at /api/docs: Swagger UI (swagger-ui-dist), reading the document
 * at /api/openapi.json. Its script and stylesheet are published with the site (KV), not bundled
 * into the Worker and not fetched from a CDN, so the page works offline under `npm start` too.
 */

/** Where the build publishes Swagger UI's files. */
export const API_DOCS_ASSETS = {
  css: '/api/docs/swagger-ui.css',
  js: '/api/docs/swagger-ui-bundle.js',
  init: '/api/docs/init.js',
} as const

/** Starts Swagger UI on the generated document (a file of its own: the page runs no inline script). */
export const apiDocsInitScript = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({ url: '/api/openapi.json', dom_id: '#swagger-ui', deepLinking: true })
})
`

const CSP = [
  "default-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "script-src 'self'",
  // Swagger UI sets style attributes as it renders.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
].join('; ')

/** The page: Swagger UI's stylesheet, its mount point and its two scripts. */
export function apiDocsPage(): Response {
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>API reference</title>
<link rel="stylesheet" href="${API_DOCS_ASSETS.css}">
</head>
<body>
<main id="swagger-ui"><noscript>The API reference needs JavaScript; the document itself is at <a href="/api/openapi.json">/api/openapi.json</a>.</noscript></main>
<script src="${API_DOCS_ASSETS.js}" defer></script>
<script src="${API_DOCS_ASSETS.init}" defer></script>
</body>
</html>
`
  return new Response(html, {
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': CSP,
      'Cache-Control': 'no-cache',
    },
  })
}
