-- MAIL_PER_ADDRESS_PER_HOUR: e-mails beyond it are recorded 'held' (never sent), and counting the recent
-- ones of a kind to an address uses an index. A kind's template is the part before the first dot.

ALTER TABLE emails DROP CONSTRAINT emails_state_check;
ALTER TABLE emails ADD CONSTRAINT emails_state_check CHECK (state IN ('intended', 'sent', 'failed', 'held'));

CREATE INDEX emails_per_address ON emails (lower(recipient), split_part(kind, '.', 1), created_at);
