#!/usr/bin/env python3
"""Python oracle for tests/corpora.rs: reads the exports the Rust tests wrote with Python's own
csv and json modules and checks they agree with what the Rust csv crate / serde_json read.

Usage: check_csv.py MANIFEST.json, where the manifest is a list of
  {"kind": "csv", "file": PATH, "table": [[cell, ...], ...]}          -- rows the csv crate read
  {"kind": "ndjson", "file": PATH, "expected": [JSON text, ...], "unordered_top": bool}
CSV is read strictly (strict=True, newline='', UTF-8 decoding errors fatal, field limit raised
to sys.maxsize since real cells exceed the default 131072). NDJSON is split on b"\\n" only
(str.splitlines() would also split on U+2028, U+0085, ...) and parsed with exact numbers
(Decimal) and every key pair kept, so rounding or a lost duplicate key cannot pass.
"""
import csv
import decimal
import io
import json
import sys

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")


def exact_loads(text):
    return json.loads(text, parse_float=decimal.Decimal, parse_int=int,
                      object_pairs_hook=lambda pairs: ("object", pairs))


def is_bare_number(cell):
    try:
        value = exact_loads(cell)
    except ValueError:
        return False
    return isinstance(value, (int, decimal.Decimal)) and not isinstance(value, bool)


def check_csv(item):
    csv.field_size_limit(sys.maxsize)
    with open(item["file"], encoding="utf-8", errors="strict", newline="") as f:
        rows = list(csv.reader(f, strict=True))
    table = item["table"]
    if rows != table:
        for i, (a, b) in enumerate(zip(rows, table)):
            if a != b:
                raise AssertionError(f"{item['file']}: row {i}: Python read {a!r}, Rust read {b!r}")
        raise AssertionError(f"{item['file']}: Python read {len(rows)} rows, Rust {len(table)}")
    width = len(rows[0])
    for i, row in enumerate(rows):
        if len(row) != width:
            raise AssertionError(f"{item['file']}: row {i} has {len(row)} cells, header {width}")
        for cell in row:
            if cell.startswith(TRIGGERS) and not is_bare_number(cell):
                raise AssertionError(f"{item['file']}: row {i}: cell {cell!r} could start a formula")


def normalise_top(value):
    kind, pairs = value
    return (kind, sorted(pairs, key=lambda p: p[0]))


def check_ndjson(item):
    with open(item["file"], "rb") as f:
        data = f.read()
    if data and not data.endswith(b"\n"):
        raise AssertionError(f"{item['file']}: does not end with LF")
    lines = [l for l in data.split(b"\n") if l]
    expected = item["expected"]
    if len(lines) != len(expected):
        raise AssertionError(f"{item['file']}: {len(lines)} lines, expected {len(expected)}")
    for n, (line, want) in enumerate(zip(lines, expected), 1):
        if line.startswith(b"\xef\xbb\xbf") or b"\r" in line:
            raise AssertionError(f"{item['file']}: line {n} has a BOM or raw CR")
        got = exact_loads(line.decode("utf-8", errors="strict"))
        want = exact_loads(want)
        if item.get("unordered_top"):
            got, want = normalise_top(got), normalise_top(want)
        if got != want:
            raise AssertionError(f"{item['file']}: line {n}: got {got!r}, expected {want!r}")


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        items = json.load(f)
    for item in items:
        {"csv": check_csv, "ndjson": check_ndjson}[item["kind"]](item)
    print(f"checked {len(items)} outputs")


if __name__ == "__main__":
    main()
