CREATE TABLE `journal` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`type` text NOT NULL,
	`run_id` text,
	`terminal_id` text,
	`caller_id` text,
	`detail` text DEFAULT '{}' NOT NULL
);
--> statement-breakpoint
CREATE INDEX `journal_run_id_idx` ON `journal` (`run_id`,`id`);--> statement-breakpoint
CREATE INDEX `journal_terminal_id_idx` ON `journal` (`terminal_id`,`id`);--> statement-breakpoint
CREATE INDEX `journal_at_idx` ON `journal` (`at`);--> statement-breakpoint
ALTER TABLE `terminals` ADD `run_id` text;--> statement-breakpoint
CREATE INDEX `terminals_run_id_idx` ON `terminals` (`run_id`);