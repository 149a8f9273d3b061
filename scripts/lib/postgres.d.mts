// Types for postgres.mjs (plain ESM, loaded by the tests and the benchmarks).
export interface PgServer {
  /** postgres://cao@<listen>:<port>/postgres */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** A new, empty database on this server; its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Fast shutdown, then the folder is removed. */
  stop(): Promise<void>;
}
export interface PgServerOptions {
  /** Address(es) to listen on, comma-separated (default 127.0.0.1); the first is the URL's. */
  listen?: string;
  /** Networks (CIDRs) whose clients are let in without a password, as loopback's are. */
  allow?: string[];
  /** fsync and synchronous_commit off (default true): tests; benchmarks pass false to measure what a user gets. */
  fast?: boolean;
  /** Every role but `cao` must give its password over TCP (scram-sha-256); default false (trust). */
  passwordAuth?: boolean;
}
/** The folder holding initdb and postgres: CAO_PG_BIN, else the newest /usr/lib/postgresql/<major>/bin, else PATH. */
export function postgresBinDir(): string;
export function startPostgres(opts?: PgServerOptions): Promise<PgServer>;
