"""Store: the embedded DuckDB database that holds everything fetched or imported.

:class:`Store` is the database; :func:`fetch` fills it incrementally from the
providers named in the universe.
"""

from rotation.store._duckdb import SCHEMA_VERSION, ObservationArrays, Store
from rotation.store._fetch import FetchJob, FetchOutcome, FetchReport, fetch, plan_fetch, register_universe
from rotation.store._import import ImportReport, import_file

__all__ = [
    "SCHEMA_VERSION",
    "FetchJob",
    "FetchOutcome",
    "FetchReport",
    "ImportReport",
    "ObservationArrays",
    "Store",
    "fetch",
    "import_file",
    "plan_fetch",
    "register_universe",
]
