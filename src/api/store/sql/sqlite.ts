/**
 * The SQLite schema, one entry per version (index + 1). Never edit a released entry: add one.
 * Times are ISO-8601 text (UTC, as `Date#toISOString` writes them, so text order is time order);
 * JSON is text, searched with json_extract.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    types TEXT NOT NULL,
    state TEXT NOT NULL,
    source TEXT NOT NULL,
    idempotency_key TEXT UNIQUE,
    workitem TEXT,
    workitem_truncated INTEGER NOT NULL DEFAULT 0,
    result TEXT,
    result_truncated INTEGER NOT NULL DEFAULT 0,
    result_cap INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT,
    next_attempt_at TEXT
  );
  -- Pages newest first, keyset on (created_at, id): overall, by state, by first type.
  CREATE INDEX tasks_created ON tasks (created_at, id);
  CREATE INDEX tasks_state_created ON tasks (state, created_at, id);
  CREATE INDEX tasks_type_created ON tasks (type, created_at, id);
  -- Retention: finished tasks of one state, oldest first.
  CREATE INDEX tasks_state_finished ON tasks (state, finished_at) WHERE finished_at IS NOT NULL;
  CREATE TABLE attempts (
    task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    host TEXT,
    pid INTEGER,
    user TEXT,
    started_at TEXT,
    ended_at TEXT,
    error TEXT,
    error_code TEXT,
    crash_log TEXT,
    PRIMARY KEY (task_id, attempt)
  );
  CREATE TABLE responses (
    task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    state TEXT NOT NULL,
    result TEXT,
    result_truncated INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (task_id, type)
  );
  -- A fan-out task listed by any of its types.
  CREATE INDEX responses_type ON responses (type, task_id);
  `,
  // 2: a fan-out's response says why its type did not succeed (issue 28 item 5).
  `
  ALTER TABLE responses ADD COLUMN error TEXT;
  ALTER TABLE responses ADD COLUMN error_code TEXT;
  `,
];
