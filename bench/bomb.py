#!/usr/bin/env python3
"""Writes a "zip bomb" XLSX for the roster benchmark (bench/roster.sh): a minimal valid workbook
whose only worksheet, xl/worksheets/sheet1.xml, inflates to about --inflated-mb MB (default 500)
while the file itself stays about 0.5 MB (deflate level 9 on maximally repetitive XML).

The worksheet starts with the header row of a students import file, so a reader that does not
refuse the file up front gets past header detection and keeps inflating; the rest is empty rows
(<row/>) each followed by 64 KiB of whitespace, which a reader skips without collecting any
problem: whatever memory it uses is its own.

  --lie   declares, in the zip headers, an inflated size of 20 MB for sheet1.xml instead of the
          real one, so a reader that only trusts the declared size (and does not count the bytes
          it really inflates) is caught out.

Only the standard library; python itself stays small (the worksheet is streamed in 1 MB chunks).
Prints one line: RESULT bomb file=PATH bytes=N inflated_bytes=N ratio=R declared_bytes=N
"""

import argparse
import os
import struct
import sys
import zipfile

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="学生" sheetId="1" r:id="rId1"/></sheets>'
    "</workbook>"
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)
# The columns of a students import (as `hanlin gen` writes them).
HEADER = ["学校标识码", "年级", "班级", "姓名", "性别", "学籍号", "家长姓名", "家长关系", "家长手机号"]

SHEET = "xl/worksheets/sheet1.xml"
LIE_BYTES = 20 * 1024 * 1024
CHUNK = 1 << 20


def sheet_head():
    cells = "".join(
        f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{h}</t></is></c>' for i, h in enumerate(HEADER)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        f'<row r="1">{cells}</row>'
    ).encode()


SHEET_TAIL = b"</sheetData></worksheet>"
# An empty row, then whitespace up to 64 KiB: runs of one repeated byte are what deflate packs
# best (about 1:1000, the format's limit; repeated "<row/>" alone only reaches 1:690), and 64 KiB
# of whitespace between two tags is a small XML event for any reader.
FILLER = b"<row/>\n" + b" " * (65536 - 7)


def write(path, inflated):
    head = sheet_head()
    body = max(0, inflated - len(head) - len(SHEET_TAIL))
    body -= body % len(FILLER)
    chunk = FILLER * max(1, CHUNK // len(FILLER))
    written = 0
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", RELS)
        zf.writestr("xl/workbook.xml", WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with zf.open(SHEET, "w", force_zip64=True) as f:
            f.write(head)
            written += len(head)
            left = body
            while left > 0:
                piece = chunk if left >= len(chunk) else chunk[:left]
                f.write(piece)
                left -= len(piece)
                written += len(piece)
            f.write(SHEET_TAIL)
            written += len(SHEET_TAIL)
    return written


def patch_declared_size(path, name, declared):
    """Rewrites the uncompressed size of entry `name` in its local header and its central
    directory record (plain 32-bit field or zip64 extra field, whichever holds it)."""
    with open(path, "rb") as f:
        data = bytearray(f.read())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(name)
        cd_start, count = zf.start_dir, len(zf.infolist())
    raw_name = name.encode()

    def patch_extra(extra_at, extra_len, fields):
        # zip64 extra (id 1): the 64-bit values present are, in order, those whose 32-bit field is
        # 0xFFFFFFFF: uncompressed size first.
        p, end = extra_at, extra_at + extra_len
        while p + 4 <= end:
            tag, size = struct.unpack_from("<HH", data, p)
            if tag == 1 and fields:
                struct.pack_into("<Q", data, p + 4, declared)
                return True
            p += 4 + size
        return False

    # Local header.
    lh = info.header_offset
    assert data[lh:lh + 4] == b"PK\x03\x04", "no local header where the central directory says"
    (usize,) = struct.unpack_from("<I", data, lh + 22)
    nlen, elen = struct.unpack_from("<HH", data, lh + 26)
    if usize == 0xFFFFFFFF:
        assert patch_extra(lh + 30 + nlen, elen, True), "zip64 local header without zip64 extra"
    else:
        struct.pack_into("<I", data, lh + 22, declared)
    # Central directory record: walk the records from the directory's start.
    cd = cd_start
    done = False
    for _ in range(count):
        assert data[cd:cd + 4] == b"PK\x01\x02", "central directory record expected"
        nlen, elen, clen = struct.unpack_from("<HHH", data, cd + 28)
        if bytes(data[cd + 46:cd + 46 + nlen]) == raw_name:
            (usize,) = struct.unpack_from("<I", data, cd + 24)
            if usize == 0xFFFFFFFF:
                assert patch_extra(cd + 46 + nlen, elen, True), "zip64 central record without zip64 extra"
            else:
                struct.pack_into("<I", data, cd + 24, declared)
            done = True
            break
        cd += 46 + nlen + elen + clen
    assert done, f"no central directory record for {name}"
    with open(path, "wb") as f:
        f.write(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="the .xlsx to write")
    ap.add_argument("--inflated-mb", type=int, default=500, help="inflated size of the worksheet, MB (default 500)")
    ap.add_argument("--lie", action="store_true", help="declare a 20 MB inflated size in the zip headers")
    args = ap.parse_args()
    inflated = write(args.out, args.inflated_mb * 1000 * 1000)
    declared = inflated
    if args.lie:
        declared = LIE_BYTES
        patch_declared_size(args.out, SHEET, declared)
    size = os.path.getsize(args.out)
    with zipfile.ZipFile(args.out) as zf:
        info = zf.getinfo(SHEET)
        assert info.file_size == declared, (info.file_size, declared)
    print(
        f"RESULT bomb file={args.out} bytes={size} inflated_bytes={inflated} "
        f"ratio={inflated / size:.0f} declared_bytes={declared}"
    )
    if size > 1_000_000:
        print(f"bomb.py: warning: the file is {size} bytes, more than 1 MB", file=sys.stderr)


if __name__ == "__main__":
    main()
