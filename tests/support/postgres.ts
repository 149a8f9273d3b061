// A real PostgreSQL server for the tests (see scripts/lib/postgres.mjs, shared with the benchmarks).
export { postgresBinDir, startPostgres, type PgServer, type PgServerOptions } from '../../scripts/lib/postgres.mjs';
