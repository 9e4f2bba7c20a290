/**
 * The PostgreSQL schema, one entry per version (index + 1). Never edit a released entry: add one.
 * Times are timestamptz; JSON is jsonb, searched by containment (GIN index) and path equality.
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE tasks (
    id text COLLATE "C" PRIMARY KEY,
    type text NOT NULL,
    types jsonb NOT NULL,
    state text NOT NULL,
    source text NOT NULL,
    idempotency_key text UNIQUE,
    workitem jsonb,
    workitem_truncated boolean NOT NULL DEFAULT false,
    result jsonb,
    result_truncated boolean NOT NULL DEFAULT false,
    result_cap integer,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    finished_at timestamptz,
    next_attempt_at timestamptz
  );
  CREATE INDEX tasks_created ON tasks (created_at, id);
  CREATE INDEX tasks_state_created ON tasks (state, created_at, id);
  CREATE INDEX tasks_type_created ON tasks (type, created_at, id);
  CREATE INDEX tasks_state_finished ON tasks (state, finished_at) WHERE finished_at IS NOT NULL;
  -- Field search: workitem @> '{"fields":{"repo":"x"}}' uses this index.
  CREATE INDEX tasks_workitem ON tasks USING gin (workitem jsonb_path_ops);
  CREATE TABLE attempts (
    task_id text COLLATE "C" NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    attempt integer NOT NULL,
    host text,
    pid integer,
    "user" text,
    started_at timestamptz,
    ended_at timestamptz,
    error text,
    error_code text,
    crash_log jsonb,
    PRIMARY KEY (task_id, attempt)
  );
  CREATE TABLE responses (
    task_id text COLLATE "C" NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    type text NOT NULL,
    state text NOT NULL,
    result jsonb,
    result_truncated boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (task_id, type)
  );
  CREATE INDEX responses_type ON responses (type, task_id);
  `,
  // 2: a fan-out's response says why its type did not succeed (issue 28 item 5).
  `
  ALTER TABLE responses ADD COLUMN error text;
  ALTER TABLE responses ADD COLUMN error_code text;
  `,
  // 3: runs (POST /v1/tasks/{id}/retry): the task's run, and attempts keyed by run too, so that
  // a retried task's attempt 1 does not land on its first run's.
  `
  ALTER TABLE tasks ADD COLUMN run integer NOT NULL DEFAULT 1;
  ALTER TABLE attempts ADD COLUMN run integer NOT NULL DEFAULT 1;
  ALTER TABLE attempts DROP CONSTRAINT attempts_pkey;
  ALTER TABLE attempts ADD PRIMARY KEY (task_id, run, attempt);
  `,
  // 4: as SQLite's 4 (issue 29, a million rows): by type and state from one index range; a
  // fan-out's responses carry the task's creation time, for listing it by a later type in order.
  `
  CREATE INDEX tasks_type_state_created ON tasks (type, state, created_at, id);
  ALTER TABLE responses ADD COLUMN task_created_at timestamptz;
  UPDATE responses SET task_created_at = tasks.created_at
    FROM tasks WHERE tasks.id = responses.task_id;
  CREATE INDEX responses_type_created ON responses (type, task_created_at, task_id);
  DROP INDEX responses_type;
  `,
  // 5: as SQLite's 5 (issue 30): a task's not-before and deadline.
  `
  ALTER TABLE tasks ADD COLUMN not_before timestamptz;
  ALTER TABLE tasks ADD COLUMN expires_at timestamptz;
  `,
];
