-- Sessions are now stored under the SHA-256 of their token, never the token
-- itself. Rows stored under a plain token can no longer be found: remove
-- them, so that no usable token stays in the database or its backups.
DELETE FROM sessions;
