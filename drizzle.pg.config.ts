import { defineConfig } from 'drizzle-kit';

// `npm run db:generate:pg` writes PostgreSQL migrations into drizzle/pg/; the store applies them at open.
export default defineConfig({
  dialect: 'postgresql',
  schema: ['./src/db/schema-pg-hosts.ts', './src/db/schema-pg.ts'],
  out: './drizzle/pg',
});
