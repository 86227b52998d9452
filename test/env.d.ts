/// <reference types="vite/client" />
// `?raw` imports (vite/client) in tests.
