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
  // 3: runs (POST /v1/tasks/{id}/retry): the task's run, and attempts keyed by run too, so that
  // a retried task's attempt 1 does not land on its first run's. SQLite cannot change a primary
  // key: the table is built again.
  `
  ALTER TABLE tasks ADD COLUMN run INTEGER NOT NULL DEFAULT 1;
  CREATE TABLE attempts_by_run (
    task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    run INTEGER NOT NULL DEFAULT 1,
    attempt INTEGER NOT NULL,
    host TEXT,
    pid INTEGER,
    user TEXT,
    started_at TEXT,
    ended_at TEXT,
    error TEXT,
    error_code TEXT,
    crash_log TEXT,
    PRIMARY KEY (task_id, run, attempt)
  );
  INSERT INTO attempts_by_run (task_id, run, attempt, host, pid, user, started_at, ended_at,
    error, error_code, crash_log)
  SELECT task_id, 1, attempt, host, pid, user, started_at, ended_at, error, error_code, crash_log
  FROM attempts;
  DROP TABLE attempts;
  ALTER TABLE attempts_by_run RENAME TO attempts;
  `,
  // 4: every list shape from an index, in order, with no sort of what it found (issue 29, a
  // million rows; test/integration/store-plans.test.ts). By type and state: one range of an
  // index. A fan-out by a type past its first: its responses carry the task's creation time,
  // so that they are read newest first from an index instead of found and then sorted.
  `
  CREATE INDEX tasks_type_state_created ON tasks (type, state, created_at, id);
  ALTER TABLE responses ADD COLUMN task_created_at TEXT;
  UPDATE responses SET task_created_at =
    (SELECT created_at FROM tasks WHERE tasks.id = responses.task_id);
  CREATE INDEX responses_type_created ON responses (type, task_created_at, task_id);
  DROP INDEX responses_type;
  `,
  // 5: a task's not-before and deadline (issue 30): shown, and the delayed ones listed by state.
  `
  ALTER TABLE tasks ADD COLUMN not_before TEXT;
  ALTER TABLE tasks ADD COLUMN expires_at TEXT;
  `,
];
