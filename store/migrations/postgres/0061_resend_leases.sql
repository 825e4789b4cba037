-- Several consoles may share one database (on PostgreSQL): a resend job is
-- run by the console that started it, which renews its lease while it
-- works. A starting console marks interrupted only the running jobs whose
-- lease has ended (their console stopped), not another live console's.
-- Jobs running before this version have no lease and are interrupted at
-- the next start, as before.
ALTER TABLE resend_jobs ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE resend_jobs ADD COLUMN lease_until TIMESTAMPTZ;
