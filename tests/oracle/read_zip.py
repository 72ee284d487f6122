"""Reads a zip with Python's own zipfile module and prints its entries as JSON (the zip test's oracle).

Usage: read_zip.py ARCHIVE. Prints [{"name", "size", "crc", "text"}...]; exits 1 when testzip()
finds a bad CRC or the archive cannot be read.
"""
import json
import sys
import zipfile

with zipfile.ZipFile(sys.argv[1]) as z:
    bad = z.testzip()
    if bad is not None:
        sys.exit(f"bad CRC in {bad}")
    entries = []
    for info in z.infolist():
        if info.compress_type != zipfile.ZIP_STORED:
            sys.exit(f"{info.filename} is compressed")
        entries.append({"name": info.filename, "size": info.file_size, "crc": info.CRC, "text": z.read(info).decode("utf-8")})
    json.dump(entries, sys.stdout)
