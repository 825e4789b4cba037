-- An error row's cells as read, in the template's column order (one CSV
-- record), kept on the row's first error so that the rows with errors can
-- be downloaded, fixed in Excel and uploaded again.
ALTER TABLE payout_batch_issues ADD COLUMN cells TEXT NOT NULL DEFAULT '';
-- Whether a batch was copied (or retried) into a new one: the home page
-- asks it of every batch sent back.
CREATE INDEX payout_batches_retry_of_idx ON payout_batches(retry_of) WHERE retry_of IS NOT NULL;
