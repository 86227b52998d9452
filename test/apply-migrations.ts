import { applyD1Migrations } from 'cloudflare:test'
import { env } from 'cloudflare:workers'

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: import('cloudflare:test').D1Migration[]
    }
  }
}

// Every test file starts with the schema of migrations/ applied to its own D1.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS)
