#!/usr/bin/env python3
"""Independent readers check files exported by sql-shell.

Usage: check_export.py EXPECTED.json

EXPECTED.json (written by tests/tests/export_readers.rs from the SQL
engine's own query results) names the exported files and holds the
expected schema, every row, and aggregates. This script reads:

  - the Parquet file with pyarrow (schema, types, nullability, row groups,
    every value, NULL positions) and with DuckDB (column types, every value,
    and aggregates computed by DuckDB);
  - the Arrow IPC file with pyarrow;
  - the CSV file with Python's csv module (an independent RFC 4180 reader)
    and DuckDB (row count, an aggregate).

It prints what each reader saw and exits non-zero on the first mismatch.
Reals are compared by bit pattern (every NaN counts as one value).
"""

import csv
import json
import math
import struct
import sys

try:
    import duckdb
    import pyarrow as pa
    import pyarrow.ipc
    import pyarrow.parquet as pq
except ImportError as e:  # the Rust test turns this into install advice
    print(f"MISSING-MODULE: {e}", file=sys.stderr)
    sys.exit(3)

ARROW_TYPES = {
    "INTEGER": pa.int64(),
    "REAL": pa.float64(),
    "TEXT": pa.string(),
    "BLOB": pa.binary(),
    "BOOLEAN": pa.bool_(),
}
DUCKDB_TYPES = {
    "INTEGER": "BIGINT",
    "REAL": "DOUBLE",
    "TEXT": "VARCHAR",
    "BLOB": "BLOB",
    "BOOLEAN": "BOOLEAN",
}

failures = []


def fail(msg):
    failures.append(msg)
    print("MISMATCH:", msg)


def decode(v, typ):
    """The expected value (tagged JSON) as Python would hold it."""
    if v is None:
        return None
    if typ == "REAL":
        return struct.unpack("<d", bytes.fromhex(v))[0]
    if typ == "BLOB":
        return bytes.fromhex(v)
    return v


def same(a, b, typ):
    if a is None or b is None:
        return a is None and b is None
    if typ == "REAL":
        if not isinstance(a, float) or not isinstance(b, float):
            return False
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return struct.pack("<d", a) == struct.pack("<d", b)
    if typ == "INTEGER":
        return type(a) is int and type(b) is int and a == b
    if typ == "BOOLEAN":
        return type(a) is bool and type(b) is bool and a == b
    return type(a) is type(b) and a == b


def compare_rows(reader, got_rows, columns, expected):
    if len(got_rows) != len(expected):
        fail(f"{reader}: {len(got_rows)} rows, expected {len(expected)}")
        return
    bad = 0
    for n, (g, w) in enumerate(zip(got_rows, expected)):
        for c, col in enumerate(columns):
            if not same(g[c], w[c], col["type"]):
                bad += 1
                if bad <= 5:
                    fail(f"{reader}: row {n + 1} column {col['name']}: got {g[c]!r}, expected {w[c]!r}")
    if bad == 0:
        print(f"{reader}: all {len(expected)} rows x {len(columns)} columns equal")


def null_positions(rows, c):
    return [i for i, r in enumerate(rows) if r[c] is None]


def check_parquet(path, columns, expected, min_row_groups, aggregates):
    print(f"== Parquet {path}")
    pf = pq.ParquetFile(path)
    print(f"pyarrow: {pf.metadata.num_rows} rows in {pf.metadata.num_row_groups} row groups, "
          f"created by {pf.metadata.created_by}")
    if pf.metadata.num_row_groups < min_row_groups:
        fail(f"parquet: {pf.metadata.num_row_groups} row groups, expected at least {min_row_groups}")
    table = pq.read_table(path)
    print("pyarrow schema:")
    for f in table.schema:
        print(f"  {f.name}: {f.type}{'' if f.nullable else ' not null'}")
    if table.schema.names != [c["name"] for c in columns]:
        fail(f"parquet column names {table.schema.names}")
    for f, col in zip(table.schema, columns):
        if f.type != ARROW_TYPES[col["type"]]:
            fail(f"parquet column {f.name}: type {f.type}, expected {ARROW_TYPES[col['type']]}")
        if f.nullable != col["nullable"]:
            fail(f"parquet column {f.name}: nullable={f.nullable}, expected {col['nullable']}")
    if table.num_rows != len(expected):
        fail(f"parquet: {table.num_rows} rows, expected {len(expected)}")
    got = [tuple(r.values()) for r in table.to_pylist()]
    compare_rows("pyarrow parquet", got, columns, expected)
    for c, col in enumerate(columns):
        g, w = null_positions(got, c), null_positions(expected, c)
        print(f"  NULLs in {col['name']}: {len(g)} (first at rows {[i + 1 for i in g[:5]]})")
        if g != w:
            fail(f"parquet NULL positions in {col['name']} differ")

    con = duckdb.connect()
    rel = con.sql(f"SELECT * FROM read_parquet('{path}')")
    print("duckdb types:", ", ".join(f"{n} {t}" for n, t in zip(rel.columns, rel.types)))
    for n, t, col in zip(rel.columns, rel.types, columns):
        if str(t) != DUCKDB_TYPES[col["type"]]:
            fail(f"duckdb column {n}: type {t}, expected {DUCKDB_TYPES[col['type']]}")
    compare_rows("duckdb parquet", con.execute(f"SELECT * FROM read_parquet('{path}')").fetchall(), columns, expected)
    names = list(aggregates.keys())
    duck = con.execute(aggregates_sql(names, aggregates, f"read_parquet('{path}')")).fetchall()[0]
    for name, value in zip(names, duck):
        want = aggregates[name]["value"]
        ok = value == want if not isinstance(want, float) else abs(value - want) <= 1e-9 * max(1.0, abs(want))
        print(f"  duckdb {name} = {short(value)} (ours {short(want)}){'' if ok else '  <-- differs'}")
        if not ok:
            fail(f"duckdb aggregate {name}: {value!r}, ours {want!r}")


def short(v):
    r = repr(v)
    return r if len(r) <= 40 else r[:37] + "..."


def aggregates_sql(names, aggregates, source):
    return "SELECT " + ", ".join(aggregates[n]["duckdb"] for n in names) + f" FROM {source}"


def check_arrow(path, columns, expected):
    print(f"== Arrow IPC {path}")
    with pa.memory_map(path) as source:
        table = pa.ipc.open_file(source).read_all()
    for f, col in zip(table.schema, columns):
        if f.type != ARROW_TYPES[col["type"]] or f.nullable != col["nullable"]:
            fail(f"arrow column {f.name}: {f.type} nullable={f.nullable}")
    got = [tuple(r.values()) for r in table.to_pylist()]
    compare_rows("pyarrow ipc", got, columns, expected)


def csv_field(v, typ):
    """The expected value in the CSV form the exporter documents."""
    if v is None:
        return ""
    if typ == "BLOB":
        return "\\x" + v.hex()
    if typ == "BOOLEAN":
        return "true" if v else "false"
    return v


def check_csv(path, columns, expected):
    print(f"== CSV {path}")
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, strict=True))
    if rows[0] != [c["name"] for c in columns]:
        fail(f"csv header {rows[0]}")
    body = rows[1:]
    if len(body) != len(expected):
        fail(f"csv: {len(body)} rows, expected {len(expected)}")
        return
    bad = 0
    for n, (g, w) in enumerate(zip(body, expected)):
        for c, col in enumerate(columns):
            typ = col["type"]
            if typ == "REAL":
                ok = (g[c] == "" and w[c] is None) or (
                    w[c] is not None and g[c] != "" and same(float(g[c]), w[c], "REAL"))
            elif typ == "INTEGER":
                ok = (g[c] == "" and w[c] is None) or (w[c] is not None and g[c] != "" and int(g[c]) == w[c])
            else:
                ok = g[c] == csv_field(w[c], typ)
            if not ok:
                bad += 1
                if bad <= 5:
                    fail(f"python csv: row {n + 1} column {col['name']}: got {g[c]!r}, expected {w[c]!r}")
    if bad == 0:
        print(f"python csv: all {len(expected)} rows x {len(columns)} columns equal")
    con = duckdb.connect()
    types = {c["name"]: ("VARCHAR" if c["type"] == "BLOB" else DUCKDB_TYPES[c["type"]]) for c in columns}
    cols = "{" + ", ".join(f"'{n}': '{t}'" for n, t in types.items()) + "}"
    count, = con.execute(f"SELECT count(*) FROM read_csv('{path}', header=true, columns={cols})").fetchall()[0]
    print(f"duckdb csv: {count} rows")
    if count != len(expected):
        fail(f"duckdb csv: {count} rows, expected {len(expected)}")


def main():
    spec = json.load(open(sys.argv[1]))
    columns = spec["columns"]
    expected = [tuple(decode(v, c["type"]) for v, c in zip(row, columns)) for row in spec["rows"]]
    print(f"pyarrow {pa.__version__}, duckdb {duckdb.__version__}; expecting {len(expected)} rows")
    check_parquet(spec["parquet"], columns, expected, spec["min_row_groups"], spec["aggregates"])
    if spec.get("arrow"):
        check_arrow(spec["arrow"], columns, expected)
    if spec.get("csv"):
        check_csv(spec["csv"], columns, expected)
    if failures:
        print(f"{len(failures)} mismatches")
        sys.exit(1)
    print("all readers agree")


if __name__ == "__main__":
    main()
