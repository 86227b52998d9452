/// <reference types="vite/client" />
// `?raw` imports (vite/client) and the type of `exports` from cloudflare:workers in tests.
declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import('../src/index')
  }
}
