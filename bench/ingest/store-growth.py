# What one stored row costs the SQLite file as it grows, with and without a unique index on
# random ids: the same table and pragmas as the collector (8 KiB pages, WAL, synchronous=FULL),
# commits of 140 rows of ~1.4 KB. usage: python3 bench/ingest/store-growth.py idx|noidx ROWS
# (writes /tmp/exp/grow-LAYOUT.db). BENCHMARKS.md, "Ingest, fifth round".
import sqlite3, os, sys, time, random, json
layout = sys.argv[1]; total = int(sys.argv[2]); per = 140; chunk = total // 5
os.makedirs("/tmp/exp", exist_ok=True)
p = f"/tmp/exp/grow-{layout}.db"
for s in ("", "-wal", "-shm"):
    try: os.remove(p+s)
    except FileNotFoundError: pass
c = sqlite3.connect(p, isolation_level=None)
c.execute("PRAGMA page_size=8192"); c.execute("PRAGMA journal_mode=wal"); c.execute("PRAGMA synchronous=FULL")
pk = "PRIMARY KEY" if layout == "idx" else ""
c.execute(f"CREATE TABLE events (id TEXT {pk} NOT NULL, site TEXT NOT NULL, schema TEXT NOT NULL, epoch TEXT NOT NULL, event TEXT NOT NULL, time INTEGER NOT NULL, visitor TEXT, data TEXT NOT NULL)")
c.execute("CREATE INDEX events_time ON events(time)")
data = json.dumps({"x": "y"*1300})
def io():
    d = dict(l.split(": ") for l in open(f"/proc/{os.getpid()}/io").read().splitlines())
    return int(d["wchar"]), int(d["rchar"])
n = 0
while n < total:
    t0 = time.process_time(); w0, r0 = io()
    for k in range(chunk // per):
        c.execute("BEGIN IMMEDIATE")
        rows = [("%032x" % random.getrandbits(128), "s", "f"*64, "2026-11-23", "page", 1763856000 + (n//50000)*3600, "v"*20, data) for _ in range(per)]
        c.executemany("INSERT OR IGNORE INTO events VALUES (?,?,?,?,?,?,?,?)", rows)
        c.execute("COMMIT"); n += per
    t1 = time.process_time(); w1, r1 = io(); m = (chunk//per)*per
    print(f"{layout} rows {n:>8}: cpu {1e6*(t1-t0)/m:5.1f} us/row, written {(w1-w0)/m:6.0f} B/row, read {(r1-r0)/m:6.0f} B/row", flush=True)
