CREATE TABLE `worktrees` (
	`terminal_id` text PRIMARY KEY NOT NULL,
	`repo_root` text NOT NULL,
	`path` text NOT NULL,
	`branch` text NOT NULL,
	`base_commit` text NOT NULL,
	`state` text DEFAULT 'active' NOT NULL,
	`created_at` integer NOT NULL,
	`ended_at` integer,
	`files_changed` integer,
	`insertions` integer,
	`deletions` integer,
	`commits` integer,
	`uncommitted_files` integer,
	CONSTRAINT "worktrees_state_check" CHECK("worktrees"."state" in ('active', 'kept', 'removed'))
);
--> statement-breakpoint
CREATE INDEX `worktrees_state_idx` ON `worktrees` (`state`);