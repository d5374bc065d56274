"""On PostgreSQL, a trigger refuses UPDATE and DELETE on the audit ledger table."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION cycle_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit ledger is append-only: % of event #% refused', TG_OP, OLD.seq
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER cycle_auditevent_append_only
    BEFORE UPDATE OR DELETE ON cycle_auditevent
    FOR EACH ROW EXECUTE FUNCTION cycle_auditevent_append_only();
CREATE TRIGGER cycle_auditevent_no_truncate
    BEFORE TRUNCATE ON cycle_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION cycle_auditevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS cycle_auditevent_no_truncate ON cycle_auditevent;
DROP TRIGGER IF EXISTS cycle_auditevent_append_only ON cycle_auditevent;
DROP FUNCTION IF EXISTS cycle_auditevent_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("cycle", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
