-- Invoice numbers: one gap-free sequence per series (SHOP_INVOICE_PREFIX). The receipt's intent takes the
-- next number in the transaction that records it (UPDATE ... RETURNING holds the counter row's lock until
-- commit, so concurrent receipts take numbers one after the other and a rolled-back one gives its number
-- back), and the number is stored on the receipt's row: a resend prints the same number.

CREATE TABLE invoice_counter (
    series text PRIMARY KEY,                          -- SHOP_INVOICE_PREFIX, e.g. 'INV-'
    next   bigint NOT NULL CHECK (next >= 1)          -- the number the next invoice gets
);

ALTER TABLE emails ADD COLUMN invoice_series text;
ALTER TABLE emails ADD COLUMN invoice_seq bigint;
ALTER TABLE emails ADD CONSTRAINT emails_invoice_number CHECK ((invoice_series IS NULL) = (invoice_seq IS NULL));
-- no number is ever shared
CREATE UNIQUE INDEX emails_invoice_unique ON emails (invoice_series, invoice_seq) WHERE invoice_seq IS NOT NULL;
