-- The language each user reads the console in: 'zh-CN' or 'en', or ''
-- while they have chosen none (their browser's language is taken then,
-- else the team's default under the 'console.language' setting).
ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT '';
