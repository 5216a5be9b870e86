"""What every read-model projection shares: its tables by name (live or a rebuild copy) and SQL."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from eventsourcing.utils import get_topic
from psycopg import sql
from psycopg.types.json import Jsonb

from pdm.alerting.history import plain

REBUILD_SUFFIX = "__rebuild"


def topics_of(*aggregates: type) -> frozenset[str]:
    """Every event class nested in the aggregates: what a projection subscribes to."""
    return frozenset(
        get_topic(cls) for aggregate in aggregates for cls in vars(aggregate).values()
        if isinstance(cls, type) and issubclass(cls, aggregate.Event) and cls is not aggregate.Event
    )


class TableProjection:
    """A projection over named tables; `suffix` points it at a rebuild's fresh copies instead."""

    name: str
    tables: tuple[str, ...]
    topics: frozenset[str]

    def __init__(self, suffix: str = "") -> None:
        self.suffix = suffix
        self.name = type(self).name + suffix  # a rebuild tracks its own position

    def t(self, table: str) -> sql.Identifier:
        return sql.Identifier(table + self.suffix)

    def wants(self, topic: str) -> bool:
        return topic in self.topics

    def forget(self) -> None:
        """Nothing in memory: every batch reads the rows it folds onto."""


def upsert(cursor: psycopg.Cursor[Any], table: sql.Identifier, key: str,
           columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> None:
    """Insert or overwrite whole rows: a row is the fold of all its events, so last write wins."""
    template = "INSERT INTO {t} ({cols}) VALUES ({vals}) ON CONFLICT ({key}) DO UPDATE SET {sets}"
    query = sql.SQL(template).format(
        t=table, cols=sql.SQL(", ").join(map(sql.Identifier, columns)),
        vals=sql.SQL(", ").join(sql.Placeholder() * len(columns)), key=sql.Identifier(key),
        sets=sql.SQL(", ").join(sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c))
                                for c in columns if c != key))
    params = [tuple(param(row[c]) for c in columns) for row in rows]
    if params:
        cursor.executemany(query, params)


def load(cursor: psycopg.Cursor[Any], table: sql.Identifier, key: str, ids: Sequence[Any],
         columns: Sequence[str]) -> dict[Any, dict[str, Any]]:
    """The current rows of the aggregates a batch touches, in one round trip."""
    if not ids:
        return {}
    query = sql.SQL("SELECT {cols} FROM {t} WHERE {key} = ANY(%s)").format(
        cols=sql.SQL(", ").join(map(sql.Identifier, columns)), t=table, key=sql.Identifier(key))
    found = (dict(zip(columns, row, strict=True)) for row in cursor.execute(query, (list(ids),)))
    return {row[key]: row for row in found}


def param(value: Any) -> Any:
    return Jsonb(value, dumps=_dumps) if isinstance(value, dict) else value


def _dumps(value: Any) -> str:
    return json.dumps(plain(value), sort_keys=True)
