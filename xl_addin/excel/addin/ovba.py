"""MS-OVBA compression (spec section 2.4.1): the LZ77 variant VBA uses for the `dir` stream
and for every module's source text.

A CompressedContainer is the signature byte 0x01 followed by chunks; each chunk holds up to
4096 decompressed bytes behind a 2-byte header (size - 3 in bits 0-11, signature 0b011 in
bits 12-14, "compressed" flag in bit 15). A compressed chunk is token sequences: one flag
byte, then 8 tokens, each a literal byte (flag bit 0) or a 2-byte copy token (flag bit 1)
whose offset/length split depends on how far into the chunk the decompressor is.
"""

from __future__ import annotations

import struct

CHUNK = 4096
_MIN_MATCH = 3
_MAX_CANDIDATES = 256  # match candidates tried per position: good ratio, bounded time


class OvbaError(ValueError):
    """A compressed container that does not follow MS-OVBA 2.4.1."""


def _bit_count(difference):
    """Offset bits of a copy token at ``difference`` bytes into the chunk (2.4.1.3.19.1)."""
    n = 4
    while (1 << n) < difference:
        n += 1
    return n


def _compress_chunk(data, start, end):
    """Token sequences of data[start:end] (one chunk), as bytes (may exceed 4096)."""
    out = bytearray()
    heads = {}  # 3-byte prefix -> positions (absolute) already seen in this chunk
    pos = start
    while pos < end:
        flag_at = len(out)
        out.append(0)
        flags = 0
        for bit in range(8):
            if pos >= end:
                break
            best_len, best_off = 0, 0
            if pos + _MIN_MATCH <= end:
                bits = _bit_count(pos - start)
                max_len = min((0xFFFF >> bits) + 3, end - pos)
                key = bytes(data[pos:pos + _MIN_MATCH])
                cands = heads.get(key, ())
                for cand in reversed(cands[-_MAX_CANDIDATES:]):
                    n = _MIN_MATCH
                    # Overlapping copies are allowed (the decompressor copies byte by byte).
                    while n < max_len and data[cand + n] == data[pos + n]:
                        n += 1
                    if n > best_len:
                        best_len, best_off = n, pos - cand
                        if n == max_len:
                            break
            if best_len >= _MIN_MATCH:
                bits = _bit_count(pos - start)
                token = ((best_off - 1) << (16 - bits)) | (best_len - 3)
                out += struct.pack("<H", token)
                flags |= 1 << bit
                step = best_len
            else:
                out.append(data[pos])
                step = 1
            for p in range(pos, min(pos + step, end - _MIN_MATCH + 1)):
                heads.setdefault(bytes(data[p:p + _MIN_MATCH]), []).append(p)
            pos += step
        out[flag_at] = flags
    return bytes(out)


def compress(data):
    """Compress ``data`` into an MS-OVBA CompressedContainer.

    A chunk whose tokens would not fit in 4096 bytes is stored raw (flag 0), as the spec
    says; a raw chunk always decompresses to 4096 bytes, so the spec pads a short final raw
    chunk with zeros. That only happens for a last chunk of 3641+ bytes with almost no
    repetition: never for program text; :func:`uses_raw_chunk` tells the caller.

    Args:
        data: bytes to compress.
    Returns:
        bytes: the container.
    """
    data = bytes(data)
    out = bytearray(b"\x01")
    for start in range(0, len(data), CHUNK):
        end = min(start + CHUNK, len(data))
        body = _compress_chunk(data, start, end)
        if len(body) <= CHUNK:
            out += struct.pack("<H", 0xB000 | (len(body) + 2 - 3)) + body
        else:
            raw = data[start:end].ljust(CHUNK, b"\x00")
            out += struct.pack("<H", 0x3000 | (CHUNK + 2 - 3)) + raw
    return bytes(out)


def uses_raw_chunk(container):
    """True if any chunk of ``container`` is stored raw (Excel is known to drop such modules)."""
    return any(not compressed for compressed, _ in _chunks(container))


def _chunks(container):
    buf = bytes(container)
    if not buf or buf[0] != 0x01:
        raise OvbaError("signature byte is not 0x01")
    pos = 1
    while pos < len(buf):
        if pos + 2 > len(buf):
            raise OvbaError(f"truncated chunk header at {pos}")
        header = struct.unpack_from("<H", buf, pos)[0]
        if (header >> 12) & 0x7 != 0b011:
            raise OvbaError(f"bad chunk signature at {pos}")
        size = (header & 0x0FFF) + 3
        compressed = bool(header & 0x8000)
        body = buf[pos + 2:pos + size]
        if len(body) != size - 2:
            raise OvbaError(f"truncated chunk at {pos}")
        if not compressed and len(body) != CHUNK:
            raise OvbaError(f"raw chunk at {pos} is not {CHUNK} bytes")
        yield compressed, body
        pos += size


def decompress(container):
    """Decompress an MS-OVBA CompressedContainer.

    Args:
        container: bytes starting with the signature byte 0x01.
    Returns:
        bytes
    Raises:
        OvbaError: malformed container (bad signature, truncated chunk, bad copy offset).
    """
    out = bytearray()
    for compressed, body in _chunks(container):
        if not compressed:
            out += body
            continue
        chunk_start = len(out)
        i = 0
        while i < len(body):
            flags = body[i]
            i += 1
            for bit in range(8):
                if i >= len(body):
                    break
                if not flags & (1 << bit):
                    out.append(body[i])
                    i += 1
                    continue
                if i + 2 > len(body):
                    raise OvbaError("truncated copy token")
                token = struct.unpack_from("<H", body, i)[0]
                i += 2
                bits = _bit_count(len(out) - chunk_start)
                length = (token & (0xFFFF >> bits)) + 3
                offset = (token >> (16 - bits)) + 1
                src = len(out) - offset
                if src < chunk_start:
                    raise OvbaError("copy token points before its chunk")
                for k in range(length):
                    out.append(out[src + k])
    return bytes(out)
