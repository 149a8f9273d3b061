CREATE TABLE "host_requests" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"target" text NOT NULL,
	"origin" text NOT NULL,
	"kind" text NOT NULL,
	"payload" jsonb NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"result" jsonb,
	"error" text,
	"error_code" text,
	"created_at" bigint NOT NULL,
	"claimed_at" bigint,
	"done_at" bigint,
	"deadline" bigint NOT NULL,
	CONSTRAINT "host_requests_state_check" CHECK ("host_requests"."state" in ('pending', 'claimed', 'done', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "hosts" (
	"name" text PRIMARY KEY NOT NULL,
	"hub_id" text NOT NULL,
	"state" text NOT NULL,
	"capacity" integer NOT NULL,
	"workers" integer DEFAULT 0 NOT NULL,
	"reserved" integer DEFAULT 0 NOT NULL,
	"labels" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"started_at" bigint NOT NULL,
	"heartbeat_at" bigint NOT NULL,
	"lease_until" bigint NOT NULL,
	"reason" text,
	CONSTRAINT "hosts_state_check" CHECK ("hosts"."state" in ('live', 'stopped', 'dead')),
	CONSTRAINT "hosts_capacity_check" CHECK ("hosts"."capacity" >= 0)
);
--> statement-breakpoint
CREATE INDEX "host_requests_target_pending_idx" ON "host_requests" USING btree ("target","id") WHERE "host_requests"."state" = 'pending';