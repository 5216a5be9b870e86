"""The RocksDB table store puts a key in the partition the changelog producer sends it to."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from aiokafka.partitioner import DefaultPartitioner

from pdm.settings import KafkaSettings, PostgresSettings, Settings, WorkerSettings
from streams.app import table_store
from streams.table_store import Store

pytestmark = pytest.mark.unit


def test_a_key_s_partition_is_the_default_partitioner_s() -> None:
    store = SimpleNamespace(table=SimpleNamespace(partitions=8), app=None)
    keys = [f"pump-{n}".encode() for n in range(200)]

    ours = [Store.partition_of(store, key) for key in keys]  # type: ignore[arg-type]

    assert ours == [DefaultPartitioner()(key, list(range(8)), list(range(8))) for key in keys]
    assert set(ours) == set(range(8))


def test_production_keeps_tables_in_rocksdb_and_development_in_memory() -> None:
    production = Settings(environment="production", kafka=KafkaSettings(bootstrap_servers="kafka:9092"),
                          postgres=PostgresSettings(url="postgresql://pdm:secret@db/pdm"))  # type: ignore[arg-type]

    assert table_store(production) == "pdm-rocksdb://"
    assert table_store(Settings()) == "memory://"
    assert table_store(Settings(worker=WorkerSettings(store="rocksdb"))) == "pdm-rocksdb://"
    assert table_store(production.model_copy(update={"worker": WorkerSettings(store="memory")})) == "memory://"
