-- The trace a row was written in (W3C `traceparent`, and `tracestate` when there is one), as the
-- propagator wrote it: the relay restores it, so the published message continues that trace though it
-- leaves later and from another process. NULL: written outside any trace (or before this column).
ALTER TABLE outbox ADD COLUMN trace_context jsonb;
