#!/usr/bin/env python3
"""Current ClickHouse's SQL engine (chDB, PyPI `chdb-core`) behind the slice of ClickHouse's
HTTP interface that Sieve's collector uses, so the collector's own statements run, unchanged, on
a current ClickHouse release in tests (Debian packages only 18.16).

What is real: the SQL engine (parser, analyzer, MergeTree family, TTL, mutations, formats) is
ClickHouse's own, the version `SELECT version()` reports. What is this file: the HTTP front,
which does what clickhouse-server's does for the requests Sieve sends: the statement in the body,
or in the `query` parameter with the body as its data (gzip when `Content-Encoding: gzip`); HTTP
basic auth; other parameters as settings of that query; TabSeparated when the statement names
no format; errors as status 500 with ClickHouse's `Code: N. DB::Exception: ...` text and an
`X-ClickHouse-Exception-Code` header. It is not a server to run for real: it serialises every
statement and does not fsync; durability and concurrency are tested on a real server.

Usage: serve.py PORT DATA_DIR PASSWORD   (user `default`; prints `ready PORT VERSION`)
"""

import base64
import gzip
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from chdb import session

PORT, DATA_DIR, PASSWORD = int(sys.argv[1]), sys.argv[2], sys.argv[3]
DB = session.Session(DATA_DIR)
LOCK = threading.Lock()
EXPECTED_AUTH = "Basic " + base64.b64encode(f"default:{PASSWORD}".encode()).decode()
CODE = re.compile(r"Code: (\d+)")
# The parameters clickhouse-server reads itself rather than as settings.
NOT_SETTINGS = {"query", "database", "user", "password", "default_format"}
SETTING_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
SETTING_VALUE = re.compile(r"^[A-Za-z0-9_.]*$")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, text, code=None):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        if code is not None:
            self.send_header("X-ClickHouse-Exception-Code", code)
        self.end_headers()
        self.wfile.write(body)

    def fail(self, status, code, message):
        self.answer(status, f"Code: {code}. DB::Exception: {message}\n", str(code))

    def do_GET(self):
        if urlsplit(self.path).path == "/ping":
            self.answer(200, "Ok.\n")
        else:
            self.fail(400, 62, "only /ping and POST are served here")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Authorization") != EXPECTED_AUTH:
            return self.fail(401, 516, "default: Authentication failed")
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            body = gzip.decompress(body)
        params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
        settings = []
        for name, value in params.items():
            if name in NOT_SETTINGS:
                continue
            if not (SETTING_NAME.match(name) and SETTING_VALUE.match(value)):
                return self.fail(400, 115, f"setting {name!r} is not a plain name and value")
            settings.append(f"{name} = {value}")
        text = body.decode()
        sql = f"{params['query']}\n{text}" if "query" in params else text
        try:
            with LOCK:
                for s in settings:
                    DB.query(f"SET {s}")
                result = DB.query(sql, "TabSeparated")
        except Exception as e:  # chdb raises ChdbError with ClickHouse's own message
            message = str(e)
            found = CODE.search(message)
            code = found.group(1) if found else "1001"
            return self.answer(500, message if found else f"Code: {code}. {message}", code)
        self.answer(200, result.bytes().decode() if hasattr(result, "bytes") else str(result))


def main():
    version = DB.query("SELECT version()", "TabSeparated").bytes().decode().strip()
    server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    print(f"ready {PORT} {version}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
