"""The synthetic county behind `manage.py seed_county` and `perfbench`, and the divisions it sits on.

The framework is small: a SeedContext carries N, the seed, one independent random
stream per named part, a COPY helper and timings. Each installed app may add a
`<app>.seeding` module with `seed(ctx)`; run_seed calls them in INSTALLED_APPS
order after this module has written the divisions. core never imports an app:
apps are found by name, the same way Django finds `admin` modules.

Everything is set-based: numpy draws whole columns at once, pandas formats them,
and PostgreSQL takes them through COPY. The same (persons, seed, as_of) always
produces the same rows, ids included.

Beyond copy_rows, a part may send a long value many rows share once (copy_rows'
`shared`), have a row-by-row protection trigger checked once for the whole table
(check_trigger_in_bulk), record its rows as the inactive seeding account
(system_user_id), and rebuild derived data after the commit (after_load).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pgtrigger
from django.apps import apps
from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.module_loading import module_has_submodule
from pghistory.trigger import Event

from socialsec.core import audit
from socialsec.core.choices import DivisionLevel
from socialsec.core.models import AdministrativeDivision, User
from socialsec.lib.divisions import division_level_and_kind

DEFAULT_COUNTY_NAME = "南昌县"
# Written on the divisions table by run_seed; perfbench reads it to reuse a county it seeded before.
MARKER_PREFIX = "seed_county:"
# Rows per COPY chunk: bounds the memory of the formatted text without many round trips.
_COPY_CHUNK_ROWS = 200_000
# The inactive account that records the synthetic rows (SeedContext.system_user_id).
SYSTEM_USERNAME = "seed_county"
SYSTEM_USER_NAME = "synthetic county"


class SeedRefused(Exception):
    """The database already holds a registry and --replace was not given."""


class SeedInvalid(Exception):
    """The generated rows break a rule the database would have enforced row by row."""


@dataclass
class SeedContext:
    """What every seeding part receives. Parts add their tables' figures to `summary`."""

    persons: int
    seed: int
    county_code: str
    county_name: str
    as_of: dt.date
    # The divisions written by core: id, code, name, level, kind, parent_id, plus the expected
    # population share of each village (`share`, sums to 1 over villages); not stored.
    divisions: pd.DataFrame = field(default_factory=pd.DataFrame)
    summary: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    rows_written: int = 0
    # table -> (CREATE INDEX statements, [(constraint name, definition)]) dropped for the load
    _prepared: dict[str, tuple[list[str], list[tuple[str, str]]]] = field(default_factory=dict)
    # table -> [(trigger name, query counting the rows the trigger would have refused)]
    _checked_triggers: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    # Run by run_seed after the commit and ANALYZE, in order (e.g. rebuilding a rollup).
    _after_load: list[tuple[str, Callable[[SeedContext], Any]]] = field(default_factory=list)
    _system_user_id: int | None = None

    def rng(self, part: str) -> np.random.Generator:
        """An independent stream per part name: adding or changing a part never moves another's draws."""
        digest = hashlib.sha256(part.encode()).digest()
        words = [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]
        return np.random.default_rng(np.random.SeedSequence([self.seed, *words]))

    @property
    def created_at(self) -> str:
        """Timestamp stored in created_at/updated_at: the start of as_of, so reruns give equal rows."""
        start = dt.datetime.combine(self.as_of, dt.time(), tzinfo=ZoneInfo(settings.TIME_ZONE))
        return start.isoformat()

    @contextmanager
    def timed(self, label: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings[label] = self.timings.get(label, 0.0) + time.perf_counter() - started

    @property
    def system_user_id(self) -> int:
        """The account that records synthetic rows (enrolled_by, recorded_by …): inactive, no roles.

        Users survive --replace, so it is found again rather than made anew, and its id stays put.
        """
        if self._system_user_id is None:
            user = User.objects.filter(username=SYSTEM_USERNAME).first()
            if user is None:
                user = User(username=SYSTEM_USERNAME, first_name=SYSTEM_USER_NAME, is_active=False)
                user.set_unusable_password()  # nobody logs in as the seeder
                user.save()
            self._system_user_id = user.pk
        return self._system_user_id

    def check_trigger_in_bulk(self, table: str, trigger: str, violations_sql: str) -> None:
        """Switch a row-level protection trigger off for the load and check its rule once, set-based.

        For a trigger that queries its own table per row (e.g. "no overlapping memberships"):
        with the table's indexes dropped for the load, each row would scan the table. Instead,
        finish() runs violations_sql (a query returning one count: the rows the trigger would
        have refused) after the indexes are back, aborts the seed if it is not 0, and switches
        the trigger on again. Call before the table's first copy_rows.
        """
        if table in self._prepared:
            raise RuntimeError(f"{table} is already loading; register its checked triggers first")
        self._checked_triggers.setdefault(table, []).append((trigger, violations_sql))

    def after_load(self, label: str, step: Callable[[SeedContext], Any]) -> None:
        """Run step once the county is committed and analyzed (timed under label)."""
        self._after_load.append((label, step))

    def copy_rows(
        self,
        table: str,
        columns: Sequence[str],
        frame: pd.DataFrame,
        *,
        constants: Mapping[str, Any] | None = None,
        shared: Mapping[str, Sequence[str]] | None = None,
    ) -> int:
        """COPY the frame's columns into table, inside the caller's transaction; returns the row count.

        Missing values (None/NaN/NaT) become NULL; an empty string stays an empty string.
        The first write to a table prepares it for a bulk load (see _prepare); finish() undoes that.

        constants: columns with one value for every row, sent once. shared: columns whose value
        is one of a few long texts (a JSON snapshot many rows share): the frame's column holds
        the index of the text in the given list. With either, the frame goes through COPY into
        a temporary table and one INSERT … SELECT fills the table, so the long text crosses the
        wire and is parsed (e.g. as jsonb) once rather than once per row.
        """
        self._prepare(table)
        if constants or shared:
            return self._copy_through_staging(table, columns, frame, constants or {}, shared or {})
        with self.timed(f"copy {table}"):
            self._copy(table, columns, frame)
        self.rows_written += len(frame)
        return len(frame)

    def _copy(self, table: str, columns: Sequence[str], frame: pd.DataFrame) -> None:
        quote = connection.ops.quote_name
        sql = (
            f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) "
            "FROM STDIN WITH (FORMAT csv, NULL '\\N')"
        )
        stream = _CsvStream(frame.loc[:, list(columns)])
        try:
            # The CursorWrapper hands copy_expert to psycopg2's cursor, on Django's connection and
            # therefore inside the surrounding atomic block.
            with connection.cursor() as cursor:
                cursor.copy_expert(sql, stream, 1 << 20)  # read 1 MiB at a time
        finally:
            stream.close()

    def _copy_through_staging(
        self,
        table: str,
        columns: Sequence[str],
        frame: pd.DataFrame,
        constants: Mapping[str, Any],
        shared: Mapping[str, Sequence[str]],
    ) -> int:
        quote = connection.ops.quote_name
        staging, lookup = f"seed_staging_{table}", f"seed_shared_{table}"
        sent = [c for c in columns if c not in constants]
        with self.timed(f"copy {table}"), connection.cursor() as cursor:
            # The table's own column types (numeric, dates, …) so the CSV reads as it would there;
            # a shared column carries the index instead. Temporary: no WAL, gone at commit.
            typed = ", ".join(quote(c) for c in sent if c not in shared)
            cursor.execute(
                f"CREATE TEMPORARY TABLE {quote(staging)} ON COMMIT DROP AS "
                f"SELECT {typed} FROM {quote(table)} WITH NO DATA"
            )
            for column in shared:
                cursor.execute(f"ALTER TABLE {quote(staging)} ADD COLUMN {quote(column)} integer")
            cursor.execute(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                [table],
            )
            types = dict(cursor.fetchall())
            selects, joins = [], []
            for column in columns:
                if column in constants:
                    selects.append(f"%s::{types[column]}")
                elif column in shared:
                    alias = quote(f"{lookup}_{column}")
                    cursor.execute(
                        f"CREATE TEMPORARY TABLE {alias} ON COMMIT DROP AS "
                        f"SELECT (n - 1)::integer AS key, value::{types[column]} AS value "
                        "FROM unnest(%s::text[]) WITH ORDINALITY AS t(value, n)",
                        [list(shared[column])],
                    )
                    selects.append(f"{alias}.value")
                    joins.append(f"LEFT JOIN {alias} ON {alias}.key = s.{quote(column)}")
                else:
                    selects.append(f"s.{quote(column)}")
            self._copy(staging, sent, frame)
        # A hash join on each few-row lookup: the typed value is copied, never parsed again.
        with self.timed(f"insert {table}"), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) "
                f"SELECT {', '.join(selects)} FROM {quote(staging)} s {' '.join(joins)}",
                [constants[c] for c in columns if c in constants],
            )
            dropped = [staging, *(f"{lookup}_{column}" for column in shared)]
            cursor.execute(f"DROP TABLE {', '.join(quote(name) for name in dropped)}")
        self.rows_written += len(frame)
        return len(frame)

    def _prepare(self, table: str) -> None:
        """Switch off what a bulk load should not pay per row, until finish().

        - pghistory triggers: synthetic rows are not business events, and each row would write an
          event row (a million audit rows saying nothing). Other triggers (protections) stay on.
        - secondary indexes, unique constraints and foreign keys: PostgreSQL's advice for populating
          a database. One sort per index and one join per foreign key at the end, instead of a
          million index insertions and a million single-row checks (at 1M persons: 82 s -> 39 s).
          Re-adding a constraint checks every row, so a duplicate or a dangling id still aborts the
          load. Primary keys stay: other tables' foreign keys hang on them.
        All of this is DDL inside the seeding transaction: a rollback restores the table as it was.
        """
        if table in self._prepared:
            return
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT pg_get_indexdef(x.indexrelid), i.relname
                FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                WHERE x.indrelid = %s::regclass
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
                ORDER BY i.relname
                """,
                [table],
            )
            indexes = cursor.fetchall()
            # Foreign keys, and unique constraints no foreign key depends on; finish() adds them back.
            cursor.execute(
                """
                SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
                WHERE c.conrelid = %s::regclass
                  AND (c.contype = 'f' OR (c.contype = 'u' AND NOT EXISTS (
                      SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid)))
                ORDER BY c.contype, c.conname
                """,
                [table],
            )
            foreign_keys = cursor.fetchall()
            for name in self._triggers_off(table):
                cursor.execute(f"ALTER TABLE {quote(table)} DISABLE TRIGGER {quote(name)}")
            for name, _definition in foreign_keys:
                cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
            for _definition, name in indexes:
                cursor.execute(f"DROP INDEX {quote(name)}")
        self._prepared[table] = ([d for d, _ in indexes], foreign_keys)

    def finish(self) -> None:
        """Rebuild indexes, re-add (and so re-check) foreign keys, switch history back on."""
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            # Index builds sort in memory up to this much; SET LOCAL ends with the transaction.
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            with self.timed("build indexes"):
                for indexes, _foreign_keys in self._prepared.values():
                    for definition in indexes:
                        cursor.execute(definition)
            with self.timed("add constraints"):
                for table, (_indexes, foreign_keys) in self._prepared.items():
                    for name, definition in foreign_keys:
                        cursor.execute(
                            f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}"
                        )
                # Rows a part wrote through the ORM queue deferred checks, and ALTER TABLE refuses a
                # table with queued trigger events: run them now (they would run at commit anyway).
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            with self.timed("check triggers"):
                for table, checks in self._checked_triggers.items():
                    for name, violations_sql in checks:
                        cursor.execute(violations_sql)
                        (violations,) = cursor.fetchone()
                        if violations:
                            raise SeedInvalid(
                                f"{violations} rows of {table} break the rule of trigger {name}"
                            )
            for table in self._prepared:
                for name in self._triggers_off(table):
                    cursor.execute(f"ALTER TABLE {quote(table)} ENABLE TRIGGER {quote(name)}")

    def _triggers_off(self, table: str) -> list[str]:
        return history_trigger_names(table) + [name for name, _ in self._checked_triggers.get(table, [])]

    @property
    def tables_written(self) -> list[str]:
        return list(self._prepared)


class _CsvStream:
    """A file for copy_expert that formats the next chunk of CSV while PostgreSQL loads this one.

    Formatting is Python's work and loading is the server's, so on two cores a thread halves the
    wall time of a large COPY (measured: 1M persons, 8 s of to_csv beside 5-10 s of COPY).
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self._chunks: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=2)
        self._stop = threading.Event()
        self._buffer = b""
        self._done = False
        self._thread = threading.Thread(target=self._produce, args=(frame,), daemon=True)
        self._thread.start()

    def _produce(self, frame: pd.DataFrame) -> None:
        try:
            for start in range(0, len(frame), _COPY_CHUNK_ROWS):
                text = frame.iloc[start : start + _COPY_CHUNK_ROWS].to_csv(
                    header=False, index=False, na_rep="\\N", lineterminator="\n"
                )
                if not self._put(text.encode()):
                    return
        except BaseException as exc:  # handed to the reading thread, which raises it
            self._put(exc)
            return
        self._put(None)

    def _put(self, item: bytes | BaseException | None) -> bool:
        # Gives up when the reader has gone (the COPY failed), so the thread never hangs.
        while not self._stop.is_set():
            try:
                self._chunks.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read(self, size: int = -1) -> bytes:
        while not self._buffer and not self._done:
            item = self._chunks.get()
            if item is None:
                self._done = True
            elif isinstance(item, BaseException):
                raise item
            else:
                self._buffer = item
        if size < 0:
            size = len(self._buffer)
        piece, self._buffer = self._buffer[:size], self._buffer[size:]
        return piece

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def protection_trigger_name(model: type[models.Model], name: str) -> str:
    """The database name of a pgtrigger trigger declared on a model (for check_trigger_in_bulk)."""
    for registered_model, trigger in pgtrigger.registered():
        if registered_model is model and trigger.name == name:
            return trigger.get_pgid(registered_model)
    raise LookupError(f"{model._meta.label} has no trigger {name!r}")


def history_trigger_names(table: str) -> list[str]:
    """The pghistory triggers installed on a table (other pgtrigger triggers, e.g. protections, stay on)."""
    return sorted(
        trigger.get_pgid(model)
        for model, trigger in pgtrigger.registered()
        if model._meta.db_table == table and isinstance(trigger, Event)
    )


# --- Discovery and the run --------------------------------------------------------------------


def discover_parts() -> list[tuple[str, Callable[[SeedContext], None]]]:
    """(app label, seed function) of every installed app with a `seeding` module, in INSTALLED_APPS order.

    core is not in the list: run_seed writes the divisions before any part runs.
    """
    parts = []
    for config in apps.get_app_configs():
        if config.name == "socialsec.core" or not module_has_submodule(config.module, "seeding"):
            continue
        module = importlib.import_module(f"{config.name}.seeding")
        seed = getattr(module, "seed", None)
        if callable(seed):
            parts.append((config.label, seed))
    return parts


def registry_models() -> list[type[models.Model]]:
    """The divisions and every model that references them, directly or through another such model.

    --replace empties exactly these tables (plus their history), which is what TRUNCATE ... CASCADE
    would reach: township assignments included, users themselves not.
    """
    found: list[type[models.Model]] = [AdministrativeDivision]
    changed = True
    while changed:
        changed = False
        for model in apps.get_models(include_auto_created=True):
            if model in found or model._meta.proxy or not model._meta.managed:
                continue
            for fk in model._meta.concrete_fields:
                if fk.is_relation and fk.db_constraint and fk.related_model in found:
                    found.append(model)
                    changed = True
                    break
    return found


def history_models(tracked: Sequence[type[models.Model]]) -> list[type[models.Model]]:
    tracked_set = set(tracked)
    return [
        model
        for model in apps.get_models()
        if getattr(model, "pgh_tracked_model", None) in tracked_set
        and model._meta.managed
        and not model._meta.proxy
    ]


def existing_registry() -> dict[str, int]:
    """Rows already in the divisions and (when installed) the person table."""
    counts = {"divisions": AdministrativeDivision.objects.count()}
    if apps.is_installed("enrollment"):
        counts["persons"] = apps.get_model("enrollment", "Person").objects.count()
    return counts


def busiest_township_id() -> int | None:
    """The township with the most persons (ties: the lowest id): where setup_demo puts the demo
    staff and benefits.seeding the demo rosters. None while the registry has no person."""
    row = (
        apps.get_model("enrollment", "Person")
        .objects.values("township_id")
        .annotate(persons=models.Count("id"))
        .order_by("-persons", "township_id")
        .first()
    )
    return row["township_id"] if row else None


def read_marker() -> dict[str, Any] | None:
    """The (persons, seed, as_of) of the county seed_county last loaded here, if the table says so."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT obj_description(%s::regclass, 'pg_class')", [AdministrativeDivision._meta.db_table]
        )
        (comment,) = cursor.fetchone()
    if not comment or not comment.startswith(MARKER_PREFIX):
        return None
    try:
        return json.loads(comment.removeprefix(MARKER_PREFIX))
    except ValueError:
        return None


def _write_marker(ctx: SeedContext) -> None:
    # A table comment rather than a table: no migration, transactional, and TRUNCATE keeps it.
    marker = {
        "persons": ctx.persons,
        "seed": ctx.seed,
        "as_of": ctx.as_of.isoformat(),
        "county": ctx.county_code,
    }
    text = MARKER_PREFIX + json.dumps(marker, sort_keys=True)
    table = connection.ops.quote_name(AdministrativeDivision._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"COMMENT ON TABLE {table} IS %s", [text])


def _truncate_registry() -> None:
    tracked = registry_models()
    tables = [m._meta.db_table for m in tracked]
    # Old row versions would be read as the history of the new rows once the ids restart, so the
    # history of these tables goes with them. Users and their own history stay.
    tables += [m._meta.db_table for m in history_models(tracked)]
    quoted = ", ".join(connection.ops.quote_name(t) for t in dict.fromkeys(tables))
    # The audit tables refuse TRUNCATE (socialsec.core.audit) except for this deliberate replacement.
    with audit.history_truncation_allowed(history_models(tracked)), connection.cursor() as cursor:
        # CASCADE also reaches tables outside Django's models that reference these.
        cursor.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")


def _reset_sequences(tables: Sequence[str]) -> None:
    # COPY wrote explicit ids; the next row a clerk adds must not collide with them.
    written = set(tables)
    model_list = [m for m in apps.get_models(include_auto_created=True) if m._meta.db_table in written]
    statements = connection.ops.sequence_reset_sql(no_style(), model_list)
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def run_seed(
    *,
    persons: int,
    seed: int,
    replace: bool = False,
    as_of: dt.date | None = None,
    county_code: str | None = None,
    county_name: str | None = None,
) -> SeedContext:
    """Load a synthetic county in one transaction; refuse when a registry exists unless replace."""
    ctx = SeedContext(
        persons=persons,
        seed=seed,
        county_code=county_code or settings.COUNTY_CODE,
        county_name=county_name or getattr(settings, "COUNTY_NAME", None) or DEFAULT_COUNTY_NAME,
        as_of=as_of or timezone.localdate(),
    )
    started = time.perf_counter()
    parts = discover_parts()
    with transaction.atomic():
        existing = existing_registry()
        if any(existing.values()) and not replace:
            raise SeedRefused(existing)
        if replace:
            with ctx.timed("truncate"):
                _truncate_registry()
        with ctx.timed("generate divisions"):
            divisions = build_divisions(ctx)
        ctx.divisions = divisions
        ctx.copy_rows(
            AdministrativeDivision._meta.db_table,
            ["id", "code", "name", "level", "kind", "parent_id", "urban_rural_code"],
            divisions,
        )
        ctx.summary["townships"] = int((divisions["level"] == DivisionLevel.TOWNSHIP).sum())
        ctx.summary["villages"] = int((divisions["level"] == DivisionLevel.VILLAGE).sum())
        for _label, part in parts:
            part(ctx)
        ctx.finish()
        _reset_sequences(ctx.tables_written)
        _write_marker(ctx)
    # After the commit, so the planner sees the new tables at once rather than after autovacuum.
    with ctx.timed("analyze"), connection.cursor() as cursor:
        for table in ctx.tables_written:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    # Derived data (rollups) last: its queries then plan on the fresh statistics.
    for label, step in ctx._after_load:
        with ctx.timed(label):
            step(ctx)
    ctx.timings["total"] = time.perf_counter() - started
    return ctx


# --- The divisions ------------------------------------------------------------------------------

# Two-character stems for towns and townships (乡镇), in the style of the Gan river plain.
_TOWNSHIP_STEMS = (  # noqa: SIM905 - a word list reads best as one string
    "莲塘 向塘 三江 塘南 幽兰 蒋巷 武阳 冈上 广福 东新 富山 八一 黄马 南新 泾口 塔城 石岗 梅岭 招贤 桃花 "
    "青岚 洪港 龙津 万埠 鼎湖 长埠 乔乐 新祺 樵舍 昌邑 溪霞 铁河 厚田 石埠 象山 大塘 白沙 双港 朱港 芳溪 "
    "罗亭 松湖 黄溪 城山 丰林 凤凰 白马 金湖 河口 清溪 竹山 杨柳 麻丘 红星 五星 高桥 新丰 横岗 涂埠 瑶湖 "
    "塘山 泉岭 西山 北山 南塘 云山 龙岗 黄洲 仙湖 荷埠 蛟桥 湖坊 金盘 柏林 彭桥 石口 东岗 荷塘 前湖 上游"
).split()
# Urban streets (街道) of the county seat.
_STREET_STEMS = "莲湖 澄湖 象湖 银湖 滨江 城南 城北 城东 城西 文昌 小蓝 迎宾 玉湖 东湖 新城".split()  # noqa: SIM905
# Villages: a first character (a lineage name, a direction, a landscape word) and a place word.
_VILLAGE_FIRST = list(
    "东西南北上下前后大小新老高中长石黄白青桥田陈李刘万熊涂胡罗徐邓魏朱曾"
    "余龚喻吴杨周谢彭邹舒戴付雷夏程江钟樟枫桃梅竹松荷龙凤金银和兴永联"
)
_VILLAGE_SECOND = list("家山塘湖坑岭港洲坊圩田陂岗湾头桥庄埠垅溪源岸墩冲场堡林洪")
# Communities (社区): the names town centres and streets give them.
_COMMUNITY_STEMS = (  # noqa: SIM905
    "建设 人民 新华 和平 幸福 文化 光明 解放 前进 振兴 团结 友谊 胜利 红旗 东方 向阳 朝阳 花园 金桥 滨湖 "
    "迎春 长青 锦绣 康乐 民主 富民 新村 丽景 翠苑 书院 府前 站前 商城 兴业 健康 育才 学府 春晖 安居 德政"
).split()
# Ordinals that tell apart communities beyond the stem list (建设二社区, ...).
_ORDINALS = list("一二三四五六七八九十")


def township_count(persons: int) -> int:
    """30 at a million persons; a handful at a few thousand; never fewer than 2."""
    return max(2, min(80, round(30 * (persons / 1_000_000) ** 0.3)))  # 80: the names run out


def village_count(persons: int, townships: int) -> int:
    """About 750 at a million persons and about 20 at 2,000; at least 2 per township."""
    return max(2 * townships, round(750 * (persons / 1_000_000) ** 0.58))


def _township_weights(rng: np.random.Generator, count: int) -> np.ndarray:
    """Population weights; the first (the county seat) is 4x the average, or as much as a few allow."""
    weights = rng.lognormal(0.0, 0.45, size=count)
    ratio = min(4.0, 0.75 * count)
    rest = weights[1:].sum()
    # w0 / mean(w) = ratio  <=>  w0 = ratio * rest / (count - ratio)
    weights[0] = ratio * rest / (count - ratio)
    return weights / weights.sum()


def _allocate(total: int, weights: np.ndarray, minimum: int) -> np.ndarray:
    """Split total into integer parts proportional to weights (largest remainder), each >= minimum."""
    base = np.full(len(weights), minimum, dtype=np.int64)
    spare = total - base.sum()
    raw = spare * weights / weights.sum()
    extra = np.floor(raw).astype(np.int64)
    remainder = spare - extra.sum()
    order = np.argsort(-(raw - extra), kind="stable")
    extra[order[:remainder]] += 1
    return base + extra


def build_divisions(ctx: SeedContext) -> pd.DataFrame:
    """The county, its townships and villages, with a population share per village (DOMAIN §6.3)."""
    rng = ctx.rng("core.divisions")
    n_townships = township_count(ctx.persons)
    n_villages = village_count(ctx.persons, n_townships)

    # Township kinds by code band: a few urban streets, mostly towns, the rest rural townships.
    n_streets = min(len(_STREET_STEMS), round(0.1 * n_townships))
    n_towns = max(1, round(0.55 * n_townships))
    n_rural = n_townships - n_streets - n_towns
    # The county seat is the first town (code 100) and the most populous township.
    town_codes = np.arange(100, 100 + n_towns)
    street_codes = np.arange(1, 1 + n_streets)
    rural_codes = np.arange(200, 200 + n_rural)
    township_part = np.concatenate([town_codes, street_codes, rural_codes])
    t_weights = _township_weights(rng, n_townships)
    t_kind = np.array(["town"] * n_towns + ["street"] * n_streets + ["township"] * n_rural)

    stems = rng.permutation(np.array(_TOWNSHIP_STEMS))
    if n_towns + n_rural > len(stems):
        raise ValueError(f"at most {len(stems)} towns and townships can be named; lower --persons")
    street_stems = rng.permutation(np.array(_STREET_STEMS))
    t_names = np.concatenate(
        [
            np.strings.add(stems[:n_towns], "镇"),
            np.strings.add(street_stems[:n_streets], "街道"),
            np.strings.add(stems[n_towns : n_towns + n_rural], "乡"),
        ]
    )

    # Villages per township follow population, a little flattened (a big town has bigger villages too).
    v_per_t = _allocate(n_villages, t_weights**0.8, minimum=2)
    # Communities (residents' committees): most of a street, a few in a town centre, one in a
    # township seat now and then; the rest are villagers' committees.
    community_share = np.select([t_kind == "street", t_kind == "town"], [0.8, 0.15], 0.04)
    n_comm = np.minimum(v_per_t, np.round(v_per_t * community_share).astype(np.int64))
    n_comm = np.where((t_kind == "street") & (n_comm == 0), 1, n_comm)
    n_vill = v_per_t - n_comm
    if n_comm.max() > 199 or n_vill.max() > 199:
        raise ValueError("more than 199 committees of one kind in a township; lower --persons")

    v_township = np.repeat(np.arange(n_townships), v_per_t)
    position = np.arange(len(v_township)) - np.repeat(np.cumsum(v_per_t) - v_per_t, v_per_t)
    is_comm = position < n_comm[v_township]
    v_number = np.where(is_comm, 1 + position, 200 + position - n_comm[v_township])

    # Names: each township draws its own order of the name grid, so names repeat only across townships.
    first, second = np.array(_VILLAGE_FIRST), np.array(_VILLAGE_SECOND)
    grid = np.strings.add(np.repeat(first, len(second)), np.tile(second, len(first)))
    grid_order = np.argsort(rng.random((n_townships, len(grid))), axis=1)
    village_rank = position - np.where(is_comm, 0, n_comm[v_township])
    village_names = np.strings.add(grid[grid_order[v_township, village_rank % len(grid)]], "村委会")
    comm_stems = np.array(_COMMUNITY_STEMS)
    comm_order = np.argsort(rng.random((n_townships, len(comm_stems))), axis=1)
    comm_names = comm_stems[comm_order[v_township, village_rank % len(comm_stems)]]
    # Past the stem list a township repeats a stem with an ordinal (建设二社区).
    lap = village_rank // len(comm_stems)
    comm_names = np.where(
        lap > 0, np.strings.add(comm_names, np.array(_ORDINALS)[np.minimum(lap, 9)]), comm_names
    )
    comm_names = np.strings.add(comm_names, "社区居委会")
    v_names = np.where(is_comm, comm_names, village_names)

    # Urban-rural classification (DOMAIN §6.3): 111 city proper, 121 town centre, 210 township seat,
    # 122 a town's outlying village, 220 village.
    v_kind = t_kind[v_township]
    urban_rural = np.select(
        [is_comm & (v_kind == "street"), is_comm & (v_kind == "town"), is_comm, v_kind == "town"],
        ["111", "121", "210", "122"],
        "220",
    )

    # Expected population: a township's weight shared among its villages; communities are denser.
    v_weight = rng.lognormal(0.0, 0.45, size=len(v_township)) * np.where(is_comm, 1.8, 1.0)
    township_total = np.bincount(v_township, weights=v_weight)
    v_share = t_weights[v_township] * v_weight / township_total[v_township]

    county = ctx.county_code
    t_codes = np.strings.add(np.strings.add(county, np.strings.zfill(township_part.astype(str), 3)), "000")
    v_codes = np.strings.add(
        np.strings.slice(t_codes[v_township], 0, 9), np.strings.zfill(v_number.astype(str), 3)
    )

    frame = pd.DataFrame(
        {
            "code": np.concatenate([[f"{county}000000"], t_codes, v_codes]),
            "name": np.concatenate([[ctx.county_name], t_names, v_names]),
            "parent_index": np.concatenate([[-1], np.zeros(n_townships, dtype=np.int64), 1 + v_township]),
            "urban_rural_code": np.concatenate([[""], [""] * n_townships, urban_rural]),
            "share": np.concatenate([[0.0], np.zeros(n_townships), v_share]),
        }
    )
    # Ids in code order (county, then townships and their villages), as a registry import would number them.
    frame["id"] = frame["code"].rank(method="first").astype(np.int64)
    frame["parent_id"] = pd.array(
        np.where(frame["parent_index"] >= 0, frame["id"].to_numpy()[frame["parent_index"].clip(lower=0)], 0),
        dtype="Int64",
    )
    frame.loc[frame["parent_index"] < 0, "parent_id"] = pd.NA
    # Level and kind from the one function that reads codes, so they match the check constraint.
    level_kind = [division_level_and_kind(code) for code in frame["code"]]  # hundreds of rows, not persons
    frame["level"] = [level for level, _ in level_kind]
    frame["kind"] = [kind for _, kind in level_kind]
    frame["township_id"] = np.where(
        frame["level"] == DivisionLevel.VILLAGE,
        frame["parent_id"].fillna(0).astype(np.int64),
        np.where(frame["level"] == DivisionLevel.TOWNSHIP, frame["id"], 0),
    )
    return frame.sort_values("id", kind="stable").reset_index(drop=True).drop(columns="parent_index")
