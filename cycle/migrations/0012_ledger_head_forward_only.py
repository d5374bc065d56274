"""On PostgreSQL, the ledger head row is protected like the ledger itself.

The head (``cycle_ledgerhead``, one row) may only move forward, to the sequence number and hash of
the newest event in the ledger; it cannot be moved back, pointed elsewhere, deleted or truncated.
So someone who can write to the tables, but not disable triggers, cannot cut the ledger's tail
off and move the head back to hide it. The head may be emptied only together with the ledger, by
whoever is allowed to lift the ledger's own guard against TRUNCATE (a test database's flush).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION cycle_ledgerhead_forward_only() RETURNS trigger AS $$
DECLARE
    newest_seq bigint;
    newest_hash varchar(64);
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        IF EXISTS (
            SELECT 1 FROM pg_trigger
            WHERE tgrelid = 'cycle_auditevent'::regclass
              AND tgname = 'cycle_auditevent_no_truncate'
              AND tgenabled <> 'D'
        ) THEN
            RAISE EXCEPTION 'the ledger head is append-only: TRUNCATE refused while the ledger is kept'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'the ledger head is append-only: DELETE of head #% refused', OLD.seq
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.id <> 1 OR (TG_OP = 'UPDATE' AND OLD.id <> NEW.id) THEN
        RAISE EXCEPTION 'the ledger head is append-only: it is row 1 and stays row 1'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.seq < OLD.seq THEN
        RAISE EXCEPTION 'the ledger head is append-only: moving it back from #% to #% refused',
            OLD.seq, NEW.seq
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT seq, hash INTO newest_seq, newest_hash
        FROM cycle_auditevent ORDER BY seq DESC LIMIT 1;
    IF NOT FOUND THEN
        newest_seq := 0;
        newest_hash := repeat('0', 64);
    END IF;
    IF NEW.seq <> newest_seq OR NEW.hash <> newest_hash THEN
        RAISE EXCEPTION 'the ledger head is append-only: it can move only to the newest event #%, not to #%',
            newest_seq, NEW.seq
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER cycle_ledgerhead_forward_only
    BEFORE INSERT OR UPDATE OR DELETE ON cycle_ledgerhead
    FOR EACH ROW EXECUTE FUNCTION cycle_ledgerhead_forward_only();
CREATE TRIGGER cycle_ledgerhead_no_truncate
    BEFORE TRUNCATE ON cycle_ledgerhead
    FOR EACH STATEMENT EXECUTE FUNCTION cycle_ledgerhead_forward_only();
"""

DROP = """
DROP TRIGGER IF EXISTS cycle_ledgerhead_no_truncate ON cycle_ledgerhead;
DROP TRIGGER IF EXISTS cycle_ledgerhead_forward_only ON cycle_ledgerhead;
DROP FUNCTION IF EXISTS cycle_ledgerhead_forward_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("cycle", "0011_consultations")]

    operations = [migrations.RunPython(forwards, backwards)]
