-- The scheduler's own table: one row per periodic task, shared by every replica of the service.
-- A replica claims a due tick by locking the row and moving next_due past now() in the transaction
-- that writes the tick to the outbox: one replica wins each period, and a tick is never lost.

CREATE TABLE scheduled_tasks (
    task            text PRIMARY KEY,                 -- routing key on paybus.tasks: <owner>.<task>
    every           double precision NOT NULL CHECK (every > 0),  -- seconds; periods align to the epoch
    next_due        timestamptz NOT NULL,             -- start of the next period not yet claimed
    last_period     timestamptz,                      -- start of the period of the last tick claimed
    last_claimed_at timestamptz,
    last_claimed_by text,                             -- which scheduler (process) claimed it
    ticks           bigint NOT NULL DEFAULT 0,
    coalesced       bigint NOT NULL DEFAULT 0,        -- periods missed while no scheduler ran, folded
    last_done_period timestamptz,                     -- the last tick a worker finished (committed)
    last_done_at    timestamptz
);
