"""DuckDB's side of the export benchmark.

Usage: duckdb_copy.py SOURCE.parquet OUT_DIR THREADS

Loads the rows of SOURCE (our export) into a DuckDB table held in memory,
then times DuckDB's own COPY (SELECT * FROM t) TO '...parquet' (snappy,
DuckDB's default row group size), best of three. Prints one RESULT line in
the same shape as the Rust side.
"""

import os
import resource
import sys
import time

import duckdb


def status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


src, out_dir, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
con = duckdb.connect()
con.execute(f"SET threads = {threads}")
con.execute("SET preserve_insertion_order = true")
con.execute(f"CREATE TABLE t AS SELECT * FROM read_parquet('{src}')")
rows = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
before = status_kb("VmRSS")
best = None
cpu = None
out = os.path.join(out_dir, f"duck-{threads}.parquet")
for _ in range(3):
    if os.path.exists(out):
        os.remove(out)
    t0 = time.perf_counter()
    c0 = time.process_time()
    con.execute(f"COPY (SELECT * FROM t) TO '{out}' (FORMAT parquet, COMPRESSION snappy)")
    dt = time.perf_counter() - t0
    dc = time.process_time() - c0
    best = dt if best is None else min(best, dt)
    cpu = dc if cpu is None else min(cpu, dc)
hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"RESULT duckdb-threads-{threads} {rows} {best:.6f} {before} {hwm} {os.path.getsize(out)} {cpu:.2f}")
print(f"INFO duckdb {duckdb.__version__}")
