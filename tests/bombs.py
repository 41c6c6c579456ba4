"""Hostile files for the bounds of issue 19 §7, made cheaply (tests and benchmarks).

- :func:`docx_bomb`: a real .docx whose ``word/document.xml`` inflates to ``inflated`` bytes
  (3 GB from a 3 MB file). The deflate stream is one full-flushed block of zeros repeated, so
  making it costs a CRC, not a compression of gigabytes.
- :func:`sparse_file`: a file of ``size`` bytes that occupies no disk (holes only).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

CHUNK = 1 << 20  # one block of zeros, deflated once


def _deflated_zeros(n_chunks):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(bytes(CHUNK)) + c.flush(zlib.Z_FULL_FLUSH)  # byte-aligned, no history
    return block, c.flush(zlib.Z_FINISH)


def _crc_of_zeros(n):
    crc, zero = 0, bytes(CHUNK)
    for _ in range(n // CHUNK):
        crc = zlib.crc32(zero, crc)
    return crc


def docx_bomb(path, inflated=3 * 2**30):
    """Write a .docx bomb: the package parts of a document, ``word/document.xml`` being
    ``inflated`` bytes of zeros (a whole number of MB) once inflated.

    Returns:
        Path
    """
    n = inflated // CHUNK
    block, tail = _deflated_zeros(n)
    small = {  # a real package: Word (and python-docx) go on to inflate the document part
        "[Content_Types].xml":
            b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.'
            b'org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
            b'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
            b'"application/xml"/><Override PartName="/word/document.xml" ContentType="application/'
            b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        "_rels/.rels":
            b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
            b'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            b'Target="word/document.xml"/></Relationships>'}
    out = bytearray()
    central = bytearray()

    def local(name, method, crc, csize, usize):
        nb = name.encode()
        return struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, csize, usize,
                           len(nb), 0) + nb

    def entry(name, method, crc, csize, usize, offset):
        nb = name.encode()
        return struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc,
                           csize, usize, len(nb), 0, 0, 0, 0, 0, offset) + nb

    for name, data in small.items():
        off = len(out)
        crc = zlib.crc32(data)
        out += local(name, 0, crc, len(data), len(data)) + data
        central += entry(name, 0, crc, len(data), len(data), off)
    off = len(out)
    csize = len(block) * n + len(tail)
    crc = _crc_of_zeros(n * CHUNK)
    out += local("word/document.xml", 8, crc, csize, n * CHUNK)
    out += block * n + tail
    central += entry("word/document.xml", 8, crc, csize, n * CHUNK, off)
    cd_off = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 3, 3, len(central), cd_off, 0)
    p = Path(path)
    p.write_bytes(bytes(out))
    return p


def sparse_file(path, size=256 * 2**30):
    """A file of ``size`` bytes made of holes (it takes no disk space)."""
    p = Path(path)
    with open(p, "wb") as f:
        f.truncate(size)
    return p
