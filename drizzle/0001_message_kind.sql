-- Hand-written in place of drizzle-kit's table rebuild (which selected the new column from the old table):
-- one ALTER keeps every row; rows from before are plain messages.
ALTER TABLE `messages` ADD `kind` text DEFAULT 'message' NOT NULL CONSTRAINT "messages_kind_check" CHECK("kind" in ('message', 'task', 'notice'));
