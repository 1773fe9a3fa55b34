"""Store: the embedded DuckDB database that holds everything fetched or imported."""

from rotation.store._duckdb import SCHEMA_VERSION, Store

__all__ = ["SCHEMA_VERSION", "Store"]
