-- The language a message template is written in (PostgreSQL 009). Templates stored before this
-- were all Handlebars, which stays the default. Touches only `templates`, so it applies in any
-- order with the migrations around it.
ALTER TABLE templates ADD COLUMN engine TEXT NOT NULL DEFAULT 'handlebars'
  CHECK (engine IN ('handlebars', 'liquid'));
