-- A delivery that is sending an e-mail holds a lease on its row until the send is recorded, so that a
-- second delivery of the same fact (a republished or redelivered message, on another replica) waits
-- instead of sending again while the first one's 'sent' cannot commit (the database went away).
ALTER TABLE emails ADD COLUMN sending_until timestamptz;
