CREATE TABLE `messages` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`sender_id` text NOT NULL,
	`receiver_id` text NOT NULL,
	`body` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`error` text,
	`created_at` integer NOT NULL,
	`delivered_at` integer,
	FOREIGN KEY (`receiver_id`) REFERENCES `terminals`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "messages_status_check" CHECK("messages"."status" in ('pending', 'delivering', 'delivered', 'failed'))
);
--> statement-breakpoint
CREATE INDEX `messages_receiver_status_id_idx` ON `messages` (`receiver_id`,`status`,`id`);--> statement-breakpoint
CREATE INDEX `messages_pending_receiver_idx` ON `messages` (`receiver_id`) WHERE status = 'pending';--> statement-breakpoint
CREATE TABLE `terminals` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`provider` text,
	`profile` text,
	`creator_id` text,
	`working_directory` text,
	`pid` integer,
	`hub_id` text,
	`status` text NOT NULL,
	`created_at` integer NOT NULL,
	`ended_at` integer,
	`last_error` text,
	CONSTRAINT "terminals_kind_check" CHECK("terminals"."kind" in ('worker', 'external')),
	CONSTRAINT "terminals_status_check" CHECK("terminals"."status" in ('starting', 'idle', 'processing', 'completed', 'waiting_user_answer', 'error', 'exited'))
);
