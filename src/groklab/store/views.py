"""DuckDB over a store, read-only and confined to it.

DuckDB itself gets no file system at all: the Parquet files are opened by pyarrow (datasets of
exactly the committed chunk files, registered as Arrow scans), and DuckDB runs with external
access disabled, no temporary directory and its configuration locked. So no statement can read a
file (`read_csv('/etc/passwd')`), write one (`COPY ... TO`, inside the store or anywhere),
`ATTACH` a database, `INSTALL`/`LOAD` an extension or change a setting, whatever its SQL says.
As a second layer, with a clearer message, user SQL must be queries (SELECT, EXPLAIN, PRAGMA) by
DuckDB's own parser.

Views (one row per trial even when two chunks hold it, e.g. a store merged by copying):
    all_trials   every committed trials row, superseded ones included (provenance)
    trials       per (config_hash, seed, trial_index) the most recently committed row
                 (created_at, microseconds; ties broken by the chunk file's name)
    curves       the curves rows of exactly the rows in `trials`
    <table>      one per measurement table (dashes in its name become underscores)
Each trials and curves row has `chunk_file`: the chunk it was read from, by its name on disk.
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from groklab.errors import GroklabInputError
from groklab.store.layout import chunk_id_of, curves_path_of

READ_ONLY_STATEMENTS = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN, duckdb.StatementType.PRAGMA}

# The current row of each trial among `rows` (a relation with all_trials' columns).
LATEST_FIRST = "ORDER BY created_at DESC, chunk_file DESC"
CURRENT_ROWS = f"QUALIFY row_number() OVER (PARTITION BY config_hash, seed, trial_index {LATEST_FIRST}) = 1"


def chunk_dataset(paths: list[Path]) -> ds.Dataset:
    """One dataset over these Parquet files, with missing columns null and a `chunk_file` column
    holding each row's chunk id by file name (so a copied chunk is told apart from its original)."""
    try:
        schema = pa.unify_schemas([pq.read_schema(p) for p in paths], promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as err:
        raise GroklabInputError(f"store: chunk files disagree or are unreadable ({str(err).splitlines()[0]}); "
                                f"run `groklab store verify`") from None
    schema = schema.append(pa.field("chunk_file", pa.string()))
    return ds.FileSystemDataset.from_paths(
        [str(p) for p in paths], schema=schema, format=ds.ParquetFileFormat(), filesystem=pa.fs.LocalFileSystem(),
        partitions=[pc.field("chunk_file") == chunk_id_of(p) for p in paths])


def confined_connection(trial_files: list[Path], tables: list[Path]) -> duckdb.DuckDBPyConnection:
    """A connection with the views above over these committed chunks and tables, and no file access."""
    con = duckdb.connect()
    con.execute("SET temp_directory = ''")  # nothing spills to disk
    if trial_files:
        curves = [c for c in map(curves_path_of, trial_files) if c.exists()]
        con.register("_trial_files", chunk_dataset(trial_files))
        con.execute("CREATE VIEW all_trials AS SELECT * FROM _trial_files")
        con.execute(f"CREATE VIEW trials AS SELECT * FROM all_trials {CURRENT_ROWS}")
        if curves:
            con.register("_curve_files", chunk_dataset(curves))
            con.execute("CREATE VIEW curves AS SELECT c.* FROM _curve_files c JOIN trials t "
                        "ON c.chunk_file = t.chunk_file AND c.config_hash = t.config_hash AND c.seed = t.seed "
                        "AND c.trial_index = t.trial_index")
    for path in tables:
        con.register(path.stem.replace("-", "_"), ds.dataset(str(path), format="parquet"))
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def check_read_only(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Refuse anything but queries, by DuckDB's own parser (the settings refuse it anyway)."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as err:
        raise GroklabInputError(f"sql: {str(err).splitlines()[0]}") from None
    for statement in statements:
        if statement.type not in READ_ONLY_STATEMENTS:
            kind = statement.type.name if hasattr(statement.type, "name") else str(statement.type)
            raise GroklabInputError(f"sql: only queries are allowed on a store (SELECT, EXPLAIN, PRAGMA); "
                                    f"got {kind}")


def run_query(con: duckdb.DuckDBPyConnection, sql: str, params=None, field: str = "sql"):
    """A user's read-only query as a relation; a DuckDB error becomes one input-error line."""
    check_read_only(con, sql)
    try:
        return con.sql(sql, params=params)
    except duckdb.Error as err:
        raise GroklabInputError(f"{field}: {str(err).splitlines()[0]}") from None
