"""The national report over the Parquet files of `hoclieu district export --parquet`, in DuckDB.

Reads the measurements of benches/district_scale.rs (a JSON line) and the Parquet folder, runs
the queries a ministry would run, times them, and prints docs-ready Markdown. The small-group
rule is applied where the numbers are shown: a cell behind fewer than 5 people is NULL.
"""

import json
import sys
import time

import duckdb

parquet, measured = sys.argv[1], json.load(open(sys.argv[2]))
con = duckdb.connect()
for t in ["summaries", "fields", "groups", "materials", "lessons", "searches", "days"]:
    con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{parquet}/{t}.parquet')")

QUERIES = {
    "national total per period (sum of the centres' counts of that same period)": """
        SELECT period, COUNT(*) AS centres, SUM(participants) AS participants,
               SUM(sessions) AS sessions, ROUND(100.0 * SUM(days_on) / SUM(days), 1) AS pct_days_on
        FROM summaries GROUP BY period ORDER BY period""",
    "per province, 2026-H2: women and ethnic minorities (cells under 5 not shown)": """
        WITH g AS (
          SELECT s.province,
                 SUM(CASE WHEN question = 'gender' AND answer = 'nu' THEN g.participants END) AS women,
                 SUM(CASE WHEN question = 'ethnicity' AND answer NOT IN ('kinh', '') THEN g.participants END) AS minorities,
                 SUM(CASE WHEN question = 'newly_literate' AND answer = '1' THEN g.participants END) AS newly_literate
          FROM groups g JOIN summaries s USING (centre, period)
          WHERE period = '2026-H2' GROUP BY s.province)
        SELECT province,
               CASE WHEN women >= 5 THEN women END AS women,
               CASE WHEN minorities >= 5 THEN minorities END AS minorities,
               CASE WHEN newly_literate >= 5 THEN newly_literate END AS newly_literate
        FROM g ORDER BY province LIMIT 5""",
    "searches that found nothing, the whole year, nationally (top 5)": """
        SELECT query, SUM(searches) AS searches, SUM(participants) AS people
        FROM searches WHERE period = '2026' AND list = 'not_found'
        GROUP BY query HAVING SUM(participants) >= 5 ORDER BY searches DESC LIMIT 5""",
    "centres that sent the year but not its fourth quarter": """
        SELECT COUNT(*) AS centres FROM summaries y
        WHERE y.period = '2026' AND NOT EXISTS (
          SELECT 1 FROM summaries q WHERE q.centre = y.centre AND q.period = '2026-Q4')""",
    "most used materials nationally, 2026 (top 5)": """
        SELECT id, SUM(participants) AS people FROM materials WHERE period = '2026'
        GROUP BY id ORDER BY people DESC LIMIT 5""",
}

print("| query | rows | first run (ms) | again (ms) |")
print("| --- | ---: | ---: | ---: |")
shown = []
for name, sql in QUERIES.items():
    t = time.perf_counter()
    rows = con.execute(sql).fetchall()
    first = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    con.execute(sql).fetchall()
    again = (time.perf_counter() - t) * 1000
    print(f"| {name} | {len(rows)} | {first:.0f} | {again:.0f} |")
    shown.append((name, rows[:3]))
print()
m = measured
print(f"- centres: {m['centres']}, files: {m['files']} (refused: {m['refused']})")
print(f"- file size: mean {m['file_bytes_mean'] / 1e3:.1f} kB, total {m['file_bytes_total'] / 1e6:.0f} MB")
print(f"- signing: {m['signatures_per_s']:.0f} files/s on one core (JSON and Ed25519)")
print(f"- signature checks (read, parse, verify): {m['checks_per_s']:.0f} files/s")
print(f"- import: {m['imports_per_s']:.0f} files/s ({m['import_s']:.0f} s in all); instance database {m['instance_db_bytes'] / 1e6:.0f} MB")
print(f"- Parquet export: {m['parquet_export_s']:.1f} s, {m['parquet_bytes'] / 1e6:.1f} MB (uncompressed), rows {m['parquet_rows']}")
print()
for name, rows in shown:
    print(f"{name}: {rows}")
