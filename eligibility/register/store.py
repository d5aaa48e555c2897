"""The register database: SQLAlchemy Core over SQLite (default) or PostgreSQL, schema by Alembic.

Appends are serialised so that the hash chain has one order, and each append is one transaction, so a
process killed mid-write leaves the last entry whole or absent:

- PostgreSQL: one round trip per append. The statement `SELECT register_append(…)` (a function the r0003
  migration creates) locks the head row, links the new entries to the chain, inserts them and moves the
  head, in autocommit: the statement is its own transaction and the head row's lock is held until it
  commits. Any number of uvicorn workers and CLI processes append without losing a row or forking the chain.
- SQLite (WAL mode): in-process, so the chain is linked here; the append's first statement is a write, so its
  transaction holds the file's single write lock from the start and other writers wait their turn.

The schema is checked once per process when the register is opened (one query; Alembic only runs when the
database is behind), never per answer.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..errors import RegisterUnavailable
from . import entries as E
from .schema import GENESIS, REVISION, entries, fragments, head, personal, rules

# Any 64-bit number: the advisory lock under which one process at a time runs the migrations.
MIGRATION_LOCK_KEY = 0x717076_5245_48  # "qpv" "REH"
# Rows per transaction in bulk appends (batch --record): bounded memory, few commits.
BULK_ROWS = 5_000
# Rows per register_append statement on PostgreSQL (a decision's redacted trace weighs tens of kilobytes).
PG_STATEMENT_ROWS = 500


def default_url() -> str:
    from ..paths import user_data_dir

    return f"sqlite:///{user_data_dir() / 'register.sqlite3'}"


def resolve_url(url: str | None = None) -> str:
    """--register URL, else QPV_REGISTER_URL, else the SQLite file in the user data directory."""
    import os

    url = url or os.environ.get("QPV_REGISTER_URL") or default_url()
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]  # psycopg 3, not SQLAlchemy's psycopg2 default
    return url


def describe_url(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a URL SQLAlchemy cannot parse is shown as given
        return url


def _unavailable(exc: Exception, url: str) -> RegisterUnavailable:
    text = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0] if str(exc) else type(exc).__name__
    lowered = text.lower()
    if "full" in lowered or "no space" in lowered or "disk" in lowered:
        why = "registre plein (espace disque ou taille maximale atteinte)"
    elif "locked" in lowered or "busy" in lowered:
        why = "registre verrouillé par un autre processus trop longtemps"
    elif "connect" in lowered or "unable to open" in lowered or "refused" in lowered or "resolve" in lowered:
        why = "registre injoignable"
    elif "readonly" in lowered or "read-only" in lowered:
        why = "registre en lecture seule"
    else:
        why = "registre en erreur"
    error = RegisterUnavailable(f"{why} ({describe_url(url)})")
    error.reason, error.detail = why, text  # the driver's own (English) text: for the server log only
    return error


class Register:
    """One register. `keep_facts`: store the facts and the full answer (personal data) beside each entry."""

    def __init__(self, url: str | None = None, *, keep_facts: bool = False, migrate: bool = True):
        from sqlalchemy import create_engine, event
        from sqlalchemy.exc import SQLAlchemyError

        self.url = resolve_url(url)
        self.keep_facts = keep_facts
        self._archived: set[str] = set()  # rule texts known to be in the register (one query per new sha256)
        self._stored_fragments: set[str] = set()  # fragments known to be in the register (written once each)
        self.backend = "postgresql" if self.url.startswith("postgresql") else "sqlite" if self.url.startswith("sqlite") else None
        if self.backend is None:
            raise RegisterUnavailable(f"adresse de registre non reconnue ({describe_url(self.url)}) : "
                                      "sqlite:///chemin/fichier.sqlite3 ou postgresql://utilisateur@hôte/base")
        try:
            if self.backend == "sqlite":
                path = self.url.split("sqlite:///", 1)[1] if "sqlite:///" in self.url else ""
                if path and path != ":memory:":
                    Path(path).parent.mkdir(parents=True, exist_ok=True)
                self.engine = create_engine(self.url, connect_args={"timeout": 30})
                event.listen(self.engine, "connect", _sqlite_pragmas)
            else:
                # No pre-ping (a round trip per answer): a connection the server dropped is retried once (_retry).
                self.engine = create_engine(self.url, connect_args={"connect_timeout": 5})
            if migrate and self.schema_revision() != REVISION:
                self.migrate()
        except (SQLAlchemyError, OSError) as exc:
            raise _unavailable(exc, self.url) from None

    # --- schema --------------------------------------------------------------------------------
    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to `revision` with Alembic (an empty database gets every revision)."""
        import logging

        from alembic import command
        from alembic.config import Config

        logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # "setup plugin …" ×7 in the server log
        cfg = Config()
        cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        with self.engine.begin() as conn:
            if self.backend == "postgresql":  # two workers starting at once: one migrates, the other waits
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)

    def schema_revision(self) -> str | None:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            try:
                return conn.execute(text("SELECT version_num FROM register_alembic_version")).scalar()
            except Exception:  # noqa: BLE001 - no version table: an empty database
                return None

    # --- writing -------------------------------------------------------------------------------
    def append(self, built: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Append entries from `entries.build`, in order; returns [{seq, attestation_id}]. Raises
        RegisterUnavailable when nothing could be written (then nothing of that transaction was)."""
        from sqlalchemy.exc import SQLAlchemyError

        out: list[dict[str, Any]] = []
        batch: list[dict[str, Any]] = []
        try:
            for item in built:
                batch.append(item)
                if len(batch) >= BULK_ROWS:
                    out += self._append_retried(batch)
                    batch = []
            if batch:
                out += self._append_retried(batch)
        except SQLAlchemyError as exc:
            raise _unavailable(exc, self.url) from None
        return out

    def _retry(self, fn, *args):
        """`fn(*args)`, once more if it failed on a pooled connection the server had closed (a restarted
        PostgreSQL): the pool then holds fresh connections. Anything else is the caller's error to report."""
        from sqlalchemy.exc import DBAPIError

        try:
            return fn(*args)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
        return fn(*args)

    def _append_retried(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """`_append_batch`, once more if it failed on a pooled connection the server had closed (`_retry`), unless
        the first attempt had committed and only its answer was lost: its entries, found in the register, are then
        returned instead of being written twice (docs/register.md, « Entrée écrite deux fois »)."""
        from sqlalchemy.exc import DBAPIError

        try:
            return self._append_batch(batch)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
        return self._read(lambda conn: _already_appended(conn, batch)) or self._append_batch(batch)

    def _append_batch(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # The heavy hashing, outside the lock (a batch's entries come with it, hashed where the chunk was answered).
        digests = [item.get("digest") or E.body_digest(item["row"]) for item in batch]
        personal_rows = [_personal(item, self.keep_facts) for item in batch] if self.keep_facts else []
        self._archive_rules([item["rule"] for item in batch if item.get("rule")])
        new_fragments = {sha: text for item in batch for sha, text in (item.get("fragments") or {}).items()
                         if sha not in self._stored_fragments}
        if self.backend == "postgresql":
            if new_fragments:  # its own statement first: a fragment stored for an entry that then failed is harmless
                with self.engine.begin() as conn:
                    self._store_fragments(conn, new_fragments)
            first = self._append_postgresql(batch, digests, personal_rows)
        else:
            first = self._append_sqlite(batch, digests, personal_rows, new_fragments)
        self._stored_fragments |= set(new_fragments)
        return [{"seq": first + i, "attestation_id": item["row"]["attestation_id"]} for i, item in enumerate(batch, start=1)]

    def _append_postgresql(self, batch, digests, personal_rows) -> int:
        """Returns the number of the entry before the first. Up to PG_STATEMENT_ROWS entries: one statement, its own
        transaction (autocommit). A bigger bulk: one statement per PG_STATEMENT_ROWS in one transaction, so that no
        statement carries hundreds of megabytes of traces and the bulk stays whole or absent."""
        def call(conn, lo: int, hi: int) -> int:
            rows = json.dumps([item["row"] for item in batch[lo:hi]], ensure_ascii=False)
            extra = json.dumps([{"recorded_at": item["row"]["recorded_at"], **p}
                                for item, p in zip(batch[lo:hi], personal_rows[lo:hi])], ensure_ascii=False)
            return conn.exec_driver_sql("SELECT register_append(%s::jsonb, %s::text[], %s::jsonb)",
                                        (rows, digests[lo:hi], extra)).scalar_one()

        if len(batch) <= PG_STATEMENT_ROWS:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                return call(conn, 0, len(batch))
        with self.engine.begin() as conn:  # each call locks the head row again (already this transaction's)
            return [call(conn, lo, lo + PG_STATEMENT_ROWS) for lo in range(0, len(batch), PG_STATEMENT_ROWS)][0]

    def _store_fragments(self, conn, new: dict[str, str]) -> None:
        insert = _insert_or_ignore(self.backend)
        conn.execute(insert(fragments).on_conflict_do_nothing(), [{"sha256": k, "body": v} for k, v in new.items()])

    def _append_sqlite(self, batch, digests, personal_rows, new_fragments) -> int:
        from sqlalchemy import select, update

        with self.engine.begin() as conn:
            # A write first: this transaction holds SQLite's write lock until it commits.
            conn.execute(update(head).where(head.c.id == 1).values(seq=head.c.seq))
            if new_fragments:  # in the entries' transaction: an entry is never there without its fragments
                self._store_fragments(conn, new_fragments)
            first, prev = conn.execute(select(head.c.seq, head.c.entry_hash).where(head.c.id == 1)).one()
            rows = []
            for seq, item, digest in zip(range(first + 1, first + 1 + len(batch)), batch, digests):
                entry_hash = E.link(seq, prev, digest)
                rows.append({**item["row"], "seq": seq, "prev_hash": prev, "entry_hash": entry_hash})
                prev = entry_hash
            conn.execute(entries.insert(), rows)
            if personal_rows:
                conn.execute(personal.insert(), [{"seq": r["seq"], "recorded_at": r["recorded_at"], **p}
                                                 for r, p in zip(rows, personal_rows)])
            conn.execute(update(head).where(head.c.id == 1).values(seq=rows[-1]["seq"], entry_hash=prev))
        return first

    def _archive_rules(self, used: list[dict[str, Any]]) -> None:
        """Keep the text of each rule file a decision used, once per sha256 (only files still on disk with
        that very hash can be archived: the text is read now). Its own transaction, before the entries:
        a text archived for an entry that then failed is harmless; an entry without its text is not."""
        import hashlib

        from sqlalchemy import select

        from ..paths import rules_dir

        wanted = {r["sha256"]: r for r in used if r["sha256"] not in self._archived}
        if not wanted:
            return
        insert = _insert_or_ignore(self.backend)
        with self.engine.begin() as conn:
            have = set(conn.execute(select(rules.c.sha256).where(rules.c.sha256.in_(list(wanted)))).scalars())
            for sha, r in wanted.items():
                path = Path(rules_dir()) / r["file"] if r.get("file") else None
                if sha in have or path is None or not path.is_file():
                    continue
                data = path.read_bytes()
                if hashlib.sha256(data).hexdigest() == sha:  # another process may archive it at the same time
                    conn.execute(insert(rules).values(sha256=sha, rule_id=r["id"], file=r["file"], text=data.decode("utf-8"))
                                 .on_conflict_do_nothing())
        self._archived |= set(wanted)

    def ping(self) -> None:
        """Raise RegisterUnavailable unless the register answers now (before a long streamed answer)."""
        from sqlalchemy import select

        self._read(lambda conn: conn.execute(select(head.c.seq)).one())

    # --- reading -------------------------------------------------------------------------------
    def _read(self, fn):
        from sqlalchemy.exc import SQLAlchemyError

        def once():
            with self.engine.connect() as conn:
                return fn(conn)

        try:
            return self._retry(once)
        except SQLAlchemyError as exc:
            raise _unavailable(exc, self.url) from None

    def get(self, key: str | int) -> dict[str, Any] | None:
        """An entry by its number, or the newest entry with that attestation identifier."""
        from sqlalchemy import select

        def read(conn):
            q = select(entries, personal.c.facts.label("personal_facts"), personal.c.answer.label("personal_answer"))
            q = q.select_from(entries.outerjoin(personal, personal.c.seq == entries.c.seq))
            text = str(key).strip()
            if text.isdigit():
                q = q.where(entries.c.seq == int(text))
            else:
                q = q.where(entries.c.attestation_id == text.upper()).order_by(entries.c.seq.desc()).limit(1)
            row = conn.execute(q).mappings().first()
            return None if row is None else _entry(self._expanded(conn, [dict(row)])[0])

        return self._read(read)

    def list(self, *, date_from: str | None = None, date_to: str | None = None, dispositif: str | None = None,
             outcome: str | None = None, quartier: str | None = None, attestation_id: str | None = None,
             limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
        """Entries, oldest first; dates filter on the day they were recorded (AAAA-MM-JJ, both included)."""
        from sqlalchemy import select

        q = select(entries).order_by(entries.c.seq)
        if date_from:
            q = q.where(entries.c.recorded_at >= date_from)
        if date_to:
            q = q.where(entries.c.recorded_at < _day_after(date_to))
        if dispositif:
            q = q.where(entries.c.dispositif == dispositif) if dispositif != "locate" else q.where(entries.c.kind == "locate")
        if outcome:
            q = q.where(entries.c.outcome == outcome)
        if quartier:
            q = q.where(entries.c.quartier == quartier.upper())
        if attestation_id:
            q = q.where(entries.c.attestation_id == attestation_id.upper())
        if offset:
            q = q.offset(offset)
        if limit is not None:
            q = q.limit(limit)
        return self._read(lambda conn: [_entry(r) for r in self._expanded(conn, [dict(r) for r in conn.execute(q).mappings()])])

    def iter_rows(self, chunk: int = 10_000) -> Iterator[list[dict[str, Any]]]:
        """Every entry row as stored (all columns), in order, `chunk` at a time."""
        from sqlalchemy import select

        last = 0
        while True:
            rows = self._read(lambda conn: [dict(r) for r in conn.execute(
                select(entries).where(entries.c.seq > last).order_by(entries.c.seq).limit(chunk)).mappings()])
            if not rows:
                return
            yield rows
            last = rows[-1]["seq"]

    def expanded_rows(self, chunk: int = 10_000) -> Iterator[list[dict[str, Any]]]:
        """`iter_rows` with each answer whole again (its shared fragments put back): what `export` writes."""
        for rows in self.iter_rows(chunk):
            yield self._read(lambda conn: self._expanded(conn, rows))

    def _fragments(self, conn, wanted: set[str]) -> dict[str, str]:
        """{sha256: canonical JSON} of the fragments `wanted` that the register holds."""
        from sqlalchemy import select

        found: dict[str, str] = {}
        wanted_list = sorted(wanted)
        for lo in range(0, len(wanted_list), 500):
            found.update(conn.execute(select(fragments.c.sha256, fragments.c.body)
                                      .where(fragments.c.sha256.in_(wanted_list[lo:lo + 500]))).all())
        return found

    def _expanded(self, conn, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """`rows` with their answers whole again. A fragment missing from the register is an error (verify-chain
        says which entries)."""
        wanted = {sha for r in rows for sha in E.fragment_refs(r["answer"])}
        if not wanted:
            return rows
        found = self._fragments(conn, wanted)
        if wanted - set(found):
            error = RegisterUnavailable(f"registre incomplet : {len(wanted - set(found))} partie(s) partagée(s) de "
                                        "trace introuvable(s) (qpv register verify-chain)")
            error.reason = "registre incomplet"
            raise error
        return [{**r, "answer": E.expand(r["answer"], found)} for r in rows]

    def rule_text(self, sha256: str) -> dict[str, Any] | None:
        from sqlalchemy import select

        return self._read(lambda conn: (lambda r: dict(r) if r else None)(
            conn.execute(select(rules).where(rules.c.sha256 == sha256)).mappings().first()))

    # --- integrity -----------------------------------------------------------------------------
    def verify_chain(self) -> dict[str, Any]:
        """Recompute every entry's hash from its content and its predecessor's hash. Reports the first
        problems: a changed row (its content no longer gives its hash), a deleted row (a gap in the numbers
        or a predecessor hash that does not match), removed newest rows (the head is further on), and facts
        kept in full that no longer match their hash."""
        from sqlalchemy import select

        import hashlib

        problems: list[dict[str, Any]] = []
        prev_seq, prev_hash, count = 0, GENESIS, 0
        # Each shared fragment is stored under its own sha256: one whose text no longer gives it was changed.
        good = {sha for sha, body in self._read(lambda conn: conn.execute(select(fragments.c.sha256, fragments.c.body)).all())
                if hashlib.sha256(body.encode()).hexdigest() == sha}
        for rows in self.iter_rows():
            for row in rows:
                count += 1
                seq = row["seq"]
                if seq != prev_seq + 1:
                    problems.append({"seq": seq, "problem": "deleted",
                                     "message": f"entrées {prev_seq + 1} à {seq - 1} supprimées"})
                elif row["prev_hash"] != prev_hash:
                    problems.append({"seq": seq, "problem": "broken_link",
                                     "message": f"l'entrée {seq} ne suit pas l'entrée {prev_seq} telle qu'elle est enregistrée"})
                if E.link(seq, row["prev_hash"], E.body_digest(row)) != row["entry_hash"]:
                    problems.append({"seq": seq, "problem": "altered",
                                     "message": f"entrée {seq} modifiée après son enregistrement"})
                elif E.quartier_of(row["kind"], json.loads(row["answer"])) != row.get("quartier"):
                    problems.append({"seq": seq, "problem": "altered",
                                     "message": f"entrée {seq} : quartier modifié après l'enregistrement"})
                bad = [sha for sha in E.fragment_refs(row["answer"]) if sha not in good]
                if bad:
                    problems.append({"seq": seq, "problem": "fragment_altered",
                                     "message": f"entrée {seq} : {len(bad)} partie(s) partagée(s) de sa trace modifiée(s) "
                                                "ou supprimée(s) après l'enregistrement"})
                prev_seq, prev_hash = seq, row["entry_hash"]
        head_seq, head_hash = self._read(lambda conn: conn.execute(select(head.c.seq, head.c.entry_hash)).one())
        if head_seq != prev_seq or head_hash != prev_hash:
            problems.append({"seq": head_seq, "problem": "truncated",
                             "message": f"le registre doit aller jusqu'à l'entrée {head_seq}, la dernière présente est la {prev_seq}"})
        by_seq = {}
        for rows in self.iter_rows():
            by_seq.update({r["seq"]: r["facts_sha256"] for r in rows})
        for seq, facts in self._read(lambda conn: conn.execute(select(personal.c.seq, personal.c.facts)).all()):
            if E.sha256_of(json.loads(facts)) != by_seq.get(seq):
                problems.append({"seq": seq, "problem": "facts_altered",
                                 "message": f"entrée {seq} : les faits conservés ne correspondent plus à leur empreinte"})
        return {"ok": not problems, "entries": count, "last_seq": prev_seq, "last_hash": prev_hash,
                "problems": sorted(problems, key=lambda p: p["seq"])}

    def purge(self, before: str) -> int:
        """Delete the facts kept in full of entries recorded before `before` (ISO date). The entries and
        their hashes stay: the decision can still be listed, shown and re-checked with the facts supplied."""
        from sqlalchemy import delete
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with self.engine.begin() as conn:
                return conn.execute(delete(personal).where(personal.c.recorded_at < before)).rowcount
        except SQLAlchemyError as exc:
            raise _unavailable(exc, self.url) from None

    def describe(self) -> str:
        return describe_url(self.url) + (" (faits conservés en entier)" if self.keep_facts else " (empreinte des faits seulement)")

    def close(self) -> None:
        self.engine.dispose()


def _insert_or_ignore(backend: str):
    if backend == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer; writers queue (busy timeout)
    # In WAL mode NORMAL keeps every committed entry through a killed process and never corrupts the file;
    # a power cut may lose the last commits (fsync at checkpoints). FULL would fsync every answer (~3x the cost).
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _day_after(day: str) -> str:
    import datetime as dt

    return (dt.date.fromisoformat(day[:10]) + dt.timedelta(days=1)).isoformat()


def _already_appended(conn, batch: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """[{seq, attestation_id}] of `batch` if the register holds it already: its first entry (same attestation,
    same recording time to the microsecond, same content) and, as many entries further, its last one."""
    from sqlalchemy import select

    def same(stored, item) -> bool:
        return stored is not None and E.body_digest(dict(stored)) == (item.get("digest") or E.body_digest(item["row"]))

    first = batch[0]["row"]
    for found in conn.execute(select(entries).where(entries.c.attestation_id == first["attestation_id"],
                                                    entries.c.recorded_at == first["recorded_at"])).mappings():
        last = conn.execute(select(entries).where(entries.c.seq == found["seq"] + len(batch) - 1)).mappings().first()
        if same(found, batch[0]) and same(last, batch[-1]):
            return [{"seq": found["seq"] + i, "attestation_id": item["row"]["attestation_id"]} for i, item in enumerate(batch)]
    return None


def _personal(item: dict[str, Any], keep_facts: bool) -> dict[str, str]:
    """The facts and full answer of a built entry (`entries.Builder`: serialised now, or already)."""
    found = item["personal"]() if callable(item["personal"]) else item["personal"]
    if found is None:  # built for a register that does not keep facts, then given to one that does
        raise ValueError("entrée construite sans ses faits pour un registre qui les conserve")
    return found


def _entry(row) -> dict[str, Any]:
    """A stored row as the JSON of `qpv register show --json`."""
    r = dict(row)
    out = {
        "id": r["seq"],
        "attestation_id": r["attestation_id"],
        "attestation_sha256": r["attestation_sha256"],
        "recorded_at": r["recorded_at"],
        "kind": r["kind"],
        "served": r["served"],
        "channel": r["channel"],
        "dispositif": r["dispositif"],
        "outcome": r["outcome"],
        "quartier": r.get("quartier"),
        "rule": {"id": r["rule_id"], "version": r["rule_version"], "sha256": r["rule_sha256"]} if r["rule_id"] else None,
        "data_sha256": r["data_sha256"],
        "decision_date": r["decision_date"],
        "question": json.loads(r["question"]),
        "answer": json.loads(r["answer"]),
        "versions": json.loads(r["versions"]),
        "facts_sha256": r["facts_sha256"],
        "facts_kept": r.get("personal_facts") is not None,
        "prev_hash": r["prev_hash"],
        "entry_hash": r["entry_hash"],
    }
    if r.get("personal_facts") is not None:
        out["facts"] = json.loads(r["personal_facts"])
        out["full_answer"] = json.loads(r["personal_answer"])
    return out


SUMMARY_KEYS = ("id", "attestation_id", "recorded_at", "kind", "served", "channel", "dispositif", "outcome", "quartier",
                "rule", "data_sha256", "decision_date", "facts_sha256")


def summary(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as `qpv register list --json` and the list endpoint give it (no trace, no personal data)."""
    return {k: entry[k] for k in SUMMARY_KEYS}


def public(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry without the facts and full answer kept in full (what leaves the machine over HTTP)."""
    return {k: v for k, v in entry.items() if k not in ("facts", "full_answer")}


class LazyRegister:
    """Opened on first use and re-tried after a failure: a service whose register is down starts anyway and
    answers 503 on recorded endpoints until the register is back."""

    def __init__(self, url: str | None = None, *, keep_facts: bool = False):
        import threading

        self.url, self.keep_facts = url, keep_facts
        self._register: Register | None = None
        self._lock = threading.Lock()

    def open(self) -> Register:
        if self._register is None:
            with self._lock:
                if self._register is None:
                    self._register = Register(self.url, keep_facts=self.keep_facts)
        return self._register

    def __getattr__(self, name):
        return getattr(self.open(), name)
