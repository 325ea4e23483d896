"""Database guards for the ledger: rows are append-only, and every transaction's entries
sum to zero. Table names are qualified with the trigger's own schema so the checks hold
whatever search_path the session has when they fire."""

from django.db import migrations

GUARDS = r"""
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are append-only: % on %.% refused',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON wallets_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_entry_no_truncate BEFORE TRUNCATE ON wallets_ledgerentry
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_transaction_append_only BEFORE UPDATE OR DELETE
    ON wallets_ledgertransaction FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_transaction_no_truncate BEFORE TRUNCATE ON wallets_ledgertransaction
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unbalanced bigint;
BEGIN
    EXECUTE format(
        'SELECT e.transaction_id FROM %I.wallets_ledgerentry e
          WHERE e.transaction_id IN (SELECT DISTINCT transaction_id FROM inserted)
          GROUP BY e.transaction_id HAVING SUM(e.amount_minor) <> 0 LIMIT 1',
        TG_TABLE_SCHEMA) INTO unbalanced;
    IF unbalanced IS NOT NULL THEN
        RAISE EXCEPTION 'ledger transaction % does not sum to zero', unbalanced
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER ledger_entries_balanced AFTER INSERT ON wallets_ledgerentry
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_balanced();
"""

REMOVE = r"""
DROP TRIGGER IF EXISTS ledger_entries_balanced ON wallets_ledgerentry;
DROP TRIGGER IF EXISTS ledger_entry_append_only ON wallets_ledgerentry;
DROP TRIGGER IF EXISTS ledger_entry_no_truncate ON wallets_ledgerentry;
DROP TRIGGER IF EXISTS ledger_transaction_append_only ON wallets_ledgertransaction;
DROP TRIGGER IF EXISTS ledger_transaction_no_truncate ON wallets_ledgertransaction;
DROP FUNCTION IF EXISTS ledger_check_balanced();
DROP FUNCTION IF EXISTS ledger_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("wallets", "0001_initial")]

    operations = [migrations.RunSQL(GUARDS, REMOVE)]
