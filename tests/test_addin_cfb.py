"""The compound-file writer (MS-CFB v3), issue 6: what we write, olefile (independent) and
our reader read back the same; the directory trees are valid red-black trees (2.6.4)."""

from __future__ import annotations

import io
import random
import struct

import olefile
import pytest
from hypo import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from xl_addin.excel.addin import cfb

NAMES = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_0123456789",
                min_size=1, max_size=31)


def olefile_streams(data):
    o = olefile.OleFileIO(io.BytesIO(data))
    return {"/".join(e): o.openstream("/".join(e)).read() for e in o.listdir()}


def check(streams):
    data = cfb.write(streams)
    assert len(data) % 512 == 0
    assert olefile_streams(data) == streams
    assert cfb.read(data) == streams
    check_directory(data)
    return data


def check_directory(data):
    """Every sibling tree: binary-search order by (length, upper case), black root,
    no red node with a red child, the same number of black nodes on every path."""
    o = olefile.OleFileIO(io.BytesIO(data))
    entries = []
    dir_sect = struct.unpack_from("<I", data, 48)[0]
    chain, s = [], dir_sect
    fat = o.fat
    while s < 0xFFFFFFFA:
        chain.append(s)
        s = fat[s]
    d = b"".join(data[(x + 1) * 512:(x + 2) * 512] for x in chain)
    for off in range(0, len(d), 128):
        e = d[off:off + 128]
        nlen, kind, color = struct.unpack_from("<HBB", e, 64)
        left, right, child = struct.unpack_from("<III", e, 68)
        entries.append((e[:max(nlen - 2, 0)].decode("utf-16-le"), kind, color, left, right, child))

    def key(sid):
        n = entries[sid][0]
        return (len(n), n.upper())

    def walk(sid, lo, hi):
        """Returns black height; asserts order and colours."""
        if sid == cfb.NOSTREAM:
            return 1
        name, kind, color, left, right, _ = entries[sid]
        k = key(sid)
        assert (lo is None or lo < k) and (hi is None or k < hi), name
        for c in (left, right):
            if c != cfb.NOSTREAM and color == 0:
                assert entries[c][2] == 1, f"red {name} has a red child"
        bl, br = walk(left, lo, k), walk(right, k, hi)
        assert bl == br, f"black heights differ under {name}"
        return bl + (1 if color == 1 else 0)

    for name, kind, _color, _left, _right, child in entries:
        if kind in (1, 5) and child != cfb.NOSTREAM:
            assert entries[child][2] == 1, f"root of {name}'s children is red"
            walk(child, None, None)


@pytest.mark.parametrize("streams", [{"S": b"", "s": b"x"}, {"VBA/m": b"", "vba/n": b""},
                                     {"A": b"", "A/B": b""}])
def test_names_that_collide_in_cfb_are_refused(streams):
    with pytest.raises(cfb.CfbError):
        cfb.write(streams)


@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 4095, 4096, 4097, 70_000])
def test_stream_sizes_around_the_mini_cutoff(size):
    check({"S": random.Random(size).randbytes(size), "T": b"x"})


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 40])
def test_many_siblings_make_a_valid_red_black_tree(n):
    check({f"VBA/m{i:02d}{'x' * (i % 5)}": bytes([i]) * (i * 37) for i in range(n)})


def valid_names(streams):
    """MS-CFB compares names without case: one path per case-folded name, and no stream
    named like a storage."""
    unique = dict({p.upper(): (p, b) for p, b in streams.items()}.values())
    storages = {p.upper().rsplit("/", 1)[0] for p in unique if "/" in p}
    storages |= {s.rsplit("/", 1)[0] for s in storages if "/" in s}
    return {p: b for p, b in unique.items() if p.upper() not in storages}


@settings(max_examples=examples(40))
@given(st.dictionaries(st.tuples(st.sampled_from(["", "VBA/", "VBA/Sub/", "_VBA_PROJECT_CUR/"]),
                                  NAMES).map("".join),
                       st.integers(0, 9000).map(lambda n: random.Random(n).randbytes(n)),
                       min_size=1, max_size=25)
       .map(valid_names))
def test_random_trees_round_trip(streams):
    # a name cannot be both a stream and a storage: drop streams named like a storage
    prefixes = {"/".join(p.split("/")[:i]) for p in streams for i in range(1, p.count("/") + 1)}
    streams = {k: v for k, v in streams.items() if k not in prefixes}
    check(streams)


def test_more_than_one_fat_sector():
    """Over 128 sectors (64 KB) the FAT itself spans sectors."""
    check({"big": random.Random(0).randbytes(300_000), "small": b"abc"})


def test_long_name_is_refused():
    with pytest.raises(cfb.CfbError):
        cfb.write({"x" * 32: b""})


def test_not_a_compound_file():
    with pytest.raises(cfb.CfbError):
        cfb.read(b"PK\x03\x04" + b"\x00" * 600)
