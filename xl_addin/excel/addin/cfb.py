"""A minimal Compound File (MS-CFB, version 3) writer and reader.

Enough for a vbaProject.bin: 512-byte sectors, one FAT whose sector list fits the 109 DIFAT
entries of the header (files up to about 6.8 MB), a mini stream (64-byte sectors) for
streams under 4096 bytes, and a directory whose sibling trees are balanced binary trees
coloured so they are valid red-black trees.

Streams are given as a mapping of paths ("VBA/dir") to bytes; storages are implied by the
paths. The reader is used to take sources out of the xlwings template and by the tests.
"""

from __future__ import annotations

import struct

SECTOR = 512
MINI = 64
CUTOFF = 4096
FREE, END, FATSECT, DIFSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFC
NOSTREAM = 0xFFFFFFFF
MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_EMPTY, _STORAGE, _STREAM, _ROOT = 0, 1, 2, 5
_RED, _BLACK = 0, 1


class CfbError(ValueError):
    """A compound file this module cannot read (names the problem)."""


class _Node:
    def __init__(self, name, kind, data=b""):
        self.name, self.kind, self.data = name, kind, data
        self.children = {}
        self.sid = None
        self.left = self.right = self.child = NOSTREAM
        self.color = _BLACK
        self.start, self.size = END, 0


def _child(node, name, kind):
    """The child ``name`` of ``node``, made if new. MS-CFB compares names without case
    (2.6.4), so two names that differ only in case cannot both be in one storage."""
    key = name.upper()
    child = node.children.get(key)
    if child is None:
        child = node.children[key] = _Node(name, kind)
    elif child.name != name:
        raise CfbError(f"names differ only in case: {child.name} / {name}")
    elif child.kind != kind:
        raise CfbError(f"{name} is both a stream and a storage")
    return child


def _sort_key(name):
    # MS-CFB 2.6.4: shorter names first, then code-point order of the upper-cased name.
    return (len(name), name.upper())


def _tree(nodes, depth, max_depth, full):
    """Balanced BST over sorted ``nodes``; returns the root sid (MS-CFB 2.6.4 red-black).

    Every level but the deepest is full, so colouring the deepest level red when it is not
    full (and everything else black) keeps the same black count on every path.
    """
    if not nodes:
        return NOSTREAM
    mid = len(nodes) // 2
    n = nodes[mid]
    n.color = _RED if (depth == max_depth and not full) else _BLACK
    n.left = _tree(nodes[:mid], depth + 1, max_depth, full)
    n.right = _tree(nodes[mid + 1:], depth + 1, max_depth, full)
    return n.sid


def _sectors(n, size):
    return (n + size - 1) // size


def write(streams, path=None):
    """Build a compound file from ``{"Storage/Stream": bytes}``.

    Args:
        streams: mapping of '/'-separated paths to stream bytes (names ≤ 31 characters).
        path: if given, the file is also written there.
    Returns:
        bytes: the compound file.
    """
    root = _Node("Root Entry", _ROOT)
    for p, data in streams.items():
        parts = p.split("/")
        if any(len(x) > 31 for x in parts):
            raise CfbError(f"name too long: {p}")
        node = root
        for name in parts[:-1]:
            node = _child(node, name, _STORAGE)
        _child(node, parts[-1], _STREAM).data = bytes(data)  # paths are unique keys

    # Directory order: breadth-first from the root, so sids are stable and readable.
    order, queue = [], [root]
    while queue:
        n = queue.pop(0)
        n.sid = len(order)
        order.append(n)
        queue.extend(sorted(n.children.values(), key=lambda c: _sort_key(c.name)))
    for n in order:
        kids = sorted(n.children.values(), key=lambda c: _sort_key(c.name))
        if kids:
            max_depth = len(kids).bit_length() - 1
            full = len(kids) == (1 << (max_depth + 1)) - 1
            n.child = _tree(kids, 0, max_depth, full)

    # Mini stream: streams under the cutoff, 64-byte aligned.
    mini, minifat = bytearray(), []
    big = []
    for n in order:
        if n.kind != _STREAM:
            continue
        n.size = len(n.data)
        if n.size == 0:
            n.start = END
        elif n.size < CUTOFF:
            n.start = len(mini) // MINI
            k = _sectors(n.size, MINI)
            minifat += [n.start + i + 1 for i in range(k - 1)] + [END]
            mini += n.data.ljust(k * MINI, b"\x00")
        else:
            big.append(n)

    # Sector layout: big streams, mini stream, mini FAT, directory, then the FAT itself.
    body, chains = [], []  # body: list of 512-byte sectors; chains: (first, count)

    def put(data):
        first = len(body)
        k = _sectors(len(data), SECTOR)
        for i in range(k):
            body.append(bytes(data[i * SECTOR:(i + 1) * SECTOR]).ljust(SECTOR, b"\x00"))
        chains.append((first, k))
        return first if k else END

    for n in big:
        n.start = put(n.data)
    root.start = put(bytes(mini)) if mini else END
    root.size = len(mini)
    minifat_bytes = b"".join(struct.pack("<I", x) for x in minifat)
    minifat_bytes += b"\xff" * (-len(minifat_bytes) % SECTOR)
    minifat_start = put(minifat_bytes) if minifat else END
    n_minifat = _sectors(len(minifat_bytes), SECTOR)
    dir_bytes = b"".join(_entry(n) for n in order)
    dir_bytes += _entry(None) * (-len(order) % (SECTOR // 128))
    dir_start = put(dir_bytes)

    n_fat = 1
    while (len(body) + n_fat) > n_fat * (SECTOR // 4):
        n_fat += 1
    if n_fat > 109:
        raise CfbError("file too large for a header-only DIFAT (about 6.8 MB)")
    fat = [FREE] * (n_fat * (SECTOR // 4))
    for first, k in chains:
        for i in range(k):
            fat[first + i] = first + i + 1 if i < k - 1 else END
    fat_start = len(body)
    for i in range(n_fat):
        fat[fat_start + i] = FATSECT
    fat_bytes = b"".join(struct.pack("<I", x) for x in fat)

    difat = [fat_start + i for i in range(n_fat)] + [FREE] * (109 - n_fat)
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        MAGIC, b"\x00" * 16, 0x003E, 0x0003, 0xFFFE, 9, 6, b"\x00" * 6,
        0,                 # directory sectors (must be 0 for version 3)
        n_fat, dir_start,
        0,                 # transaction signature
        CUTOFF, minifat_start, n_minifat,
        END, 0,            # no DIFAT sectors
    ) + b"".join(struct.pack("<I", x) for x in difat)
    assert len(header) == SECTOR
    out = header + b"".join(body) + fat_bytes
    if path is not None:
        with open(path, "wb") as f:
            f.write(out)
    return out


def _entry(n):
    if n is None:
        return (b"\x00" * 64 + struct.pack("<HBB", 0, _EMPTY, _RED)
                + struct.pack("<III", NOSTREAM, NOSTREAM, NOSTREAM) + b"\x00" * 36
                + struct.pack("<IQ", 0, 0))
    name = n.name.encode("utf-16-le")
    return (name.ljust(64, b"\x00") + struct.pack("<HBB", len(name) + 2, n.kind, n.color)
            + struct.pack("<III", n.left, n.right, n.child)
            + b"\x00" * 16 + struct.pack("<I", 0) + b"\x00" * 16
            + struct.pack("<IQ", n.start if n.kind != _STORAGE else 0, n.size))


# ---------------------------------------------------------------------- reader
def read(data):
    """All streams of a compound file as ``{"Storage/Stream": bytes}``.

    Args:
        data: the file's bytes.
    Raises:
        CfbError: not a compound file, or a broken sector chain.
    """
    data = bytes(data)
    if data[:8] != MAGIC:
        raise CfbError("not a compound file (bad signature)")
    shift = struct.unpack_from("<H", data, 30)[0]
    ssize = 1 << shift
    n_fat, dir_start = struct.unpack_from("<II", data, 44)
    cutoff, minifat_start, _n_minifat, difat_start, n_difat = struct.unpack_from("<IIIII", data, 56)
    fat_sectors = [x for x in struct.unpack_from("<109I", data, 76) if x not in (FREE, END)]
    s, seen = difat_start, 0
    while s not in (END, FREE) and seen < n_difat:
        entries = struct.unpack_from(f"<{ssize // 4}I", data, (s + 1) * ssize)
        fat_sectors += [x for x in entries[:-1] if x not in (FREE, END)]
        s, seen = entries[-1], seen + 1
    fat_sectors = fat_sectors[:n_fat]

    def sector(i):
        off = (i + 1) * ssize
        if off >= len(data):
            raise CfbError(f"sector {i} beyond end of file")
        return data[off:off + ssize]

    fat = []
    for i in fat_sectors:
        fat += struct.unpack(f"<{ssize // 4}I", sector(i).ljust(ssize, b"\x00"))

    def chain(start):
        out, s, guard = [], start, 0
        while s not in (END, FREE):
            if s >= len(fat) or guard > len(fat):
                raise CfbError(f"broken sector chain at {s}")
            out.append(s)
            s, guard = fat[s], guard + 1
        return out

    def stream(start):
        return b"".join(sector(i) for i in chain(start))

    dirs = stream(dir_start)
    entries = []
    for off in range(0, len(dirs), 128):
        e = dirs[off:off + 128]
        nlen, kind = struct.unpack_from("<HB", e, 64)
        left, right, child = struct.unpack_from("<III", e, 68)
        start, size = struct.unpack_from("<IQ", e, 116)
        name = e[:max(nlen - 2, 0)].decode("utf-16-le", "replace")
        entries.append((name, kind, left, right, child, start, size & 0xFFFFFFFF))
    root = entries[0]
    ministream = stream(root[5]) if root[5] not in (END, FREE) else b""
    minifat = []
    if minifat_start not in (END, FREE):
        raw = stream(minifat_start)
        minifat = list(struct.unpack(f"<{len(raw) // 4}I", raw))

    def mini_stream(start, size):
        out, s, guard = bytearray(), start, 0
        while s not in (END, FREE) and len(out) < size:
            if s >= len(minifat) or guard > len(minifat):
                raise CfbError(f"broken mini chain at {s}")
            out += ministream[s * MINI:(s + 1) * MINI]
            s, guard = minifat[s], guard + 1
        return bytes(out[:size])

    result = {}

    def walk(sid, prefix, depth=0):
        if sid == NOSTREAM or depth > 256:
            return
        name, kind, left, right, child, start, size = entries[sid]
        walk(left, prefix, depth + 1)
        walk(right, prefix, depth + 1)
        path = prefix + name
        if kind == _STREAM:
            result[path] = (mini_stream(start, size) if size < cutoff
                            else stream(start)[:size])
        elif kind == _STORAGE:
            walk(child, path + "/", depth + 1)

    walk(root[4], "")
    return result
