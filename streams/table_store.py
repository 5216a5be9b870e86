"""Faust's RocksDB table store, for tables written after a micro-batch rather than per event.

faust-streaming 0.15.3's `faust.stores.rocksdb.Store._set` takes a write's partition from the
current event (`assert event is not None`), so it refuses the scorer's state writes, which
happen once per asset after the batch's outputs are acknowledged, outside stream iteration
(the tables are declared `use_partitioner=True` for that reason). And when an event is
current, it may be another partition's (the batch's last one). This store puts each key in the
partition Kafka's default partitioner gives it, which is where the table's changelog producer
sends it and where recovery puts it back.

Registered as `pdm-rocksdb://` (`streams.app.table_store`); reads are Faust's own.
"""

from __future__ import annotations

from aiokafka.partitioner import murmur2
from faust.stores import STORES
from faust.stores.rocksdb import Store as RocksDBStore

SCHEME = "pdm-rocksdb"


class Store(RocksDBStore):
    def _set(self, key: bytes, value: bytes | None) -> None:
        partition = self.partition_of(key)
        self._key_index[key] = partition
        self._db_for_partition(partition).put(key, value)

    def partition_of(self, key: bytes) -> int:
        """aiokafka's DefaultPartitioner for a key: murmur2, positive, modulo the partitions."""
        partitions = self.table.partitions or self.app.conf.topic_partitions
        return (murmur2(key) & 0x7FFFFFFF) % partitions


def register() -> None:
    """Idempotent: `pdm-rocksdb://` resolves to this store."""
    STORES.aliases[SCHEME] = f"{__name__}:Store"
