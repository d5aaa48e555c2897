"""PostgreSQL: appends in one round trip. `register_append(entries, digests, personal)` locks the head row,
links each new entry to the chain (the same hash as `entries.link`), inserts the entries and the facts kept
in full, and moves the head, all in the one statement the service sends (its own transaction).
SQLite (in-process, no round trips) keeps appending from Python: nothing to do there.

Revision ID: r0003
"""
from alembic import op

revision = "r0003"
down_revision = "r0002"

# Rows arrive as a JSON array of the register_entries columns (without seq and the chain); jsonb_populate_record
# maps them onto the table's row type, so a later column only needs its key in the JSON.
APPEND = r"""
CREATE OR REPLACE FUNCTION register_append(new_entries jsonb, digests text[], new_personal jsonb)
RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
  first_seq integer;
  last_hash text;
  prevs text[] := '{}';
  hashes text[] := '{}';
BEGIN
  -- The head row's lock serialises appends (any number of workers and processes); it is held to commit.
  SELECT h.seq, h.entry_hash INTO first_seq, last_hash FROM register_head h WHERE h.id = 1 FOR UPDATE;
  FOR i IN 1 .. coalesce(array_length(digests, 1), 0) LOOP
    prevs := prevs || last_hash;
    last_hash := encode(sha256(convert_to((first_seq + i)::text || ':' || last_hash || ':' || digests[i], 'UTF8')), 'hex');
    hashes := hashes || last_hash;
  END LOOP;
  INSERT INTO register_entries
    SELECT r.* FROM jsonb_array_elements(new_entries) WITH ORDINALITY AS x(doc, n),
      LATERAL jsonb_populate_record(NULL::register_entries, x.doc || jsonb_build_object(
        'seq', first_seq + x.n, 'prev_hash', prevs[x.n], 'entry_hash', hashes[x.n])) AS r
    ORDER BY x.n;
  INSERT INTO register_personal (seq, recorded_at, facts, answer)
    SELECT first_seq + x.n, x.doc ->> 'recorded_at', x.doc ->> 'facts', x.doc ->> 'answer'
    FROM jsonb_array_elements(new_personal) WITH ORDINALITY AS x(doc, n) WHERE jsonb_typeof(x.doc) = 'object';
  UPDATE register_head SET seq = first_seq + coalesce(array_length(digests, 1), 0), entry_hash = last_hash WHERE id = 1;
  RETURN first_seq;
END
$fn$
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(APPEND)  # the driver's own text: no bind-parameter parsing of the function body


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS register_append(jsonb, text[], jsonb)")
