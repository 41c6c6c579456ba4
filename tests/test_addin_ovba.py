"""MS-OVBA compression (spec 2.4.1), issue 6: our compressor and decompressor round-trip,
and agree with an independent reader (oletools' decompress_stream) and with the streams
Microsoft wrote into the xlwings template."""

from __future__ import annotations

import random
import zipfile

import pytest
from hypo import examples
from hypothesis import given, settings
from hypothesis import strategies as st
from oletools.olevba import decompress_stream

from xl_addin.excel.addin import cfb, ovba
from xl_addin.excel.addin.xlam import template_path

CHUNK = ovba.CHUNK
VBA_WORDS = ["Dim ", "As ", "String", "Function ", "End ", "If ", "Then\r\n", "Else\r\n",
             "    ", "RunPython ", '"import x; x.f()"', "' comment ", "Sub ", "(", ")",
             ", ", "= ", "& ", "\r\n", "Optional ", "Variant", "ActiveWorkbook.", "Name"]


def oletools_decompress(container):
    return bytes(decompress_stream(bytearray(container)))


def last_chunk_is_raw(container):
    """Read the chunk headers (bit 15 = compressed) without our decompressor."""
    pos, raw = 1, False
    while pos < len(container):
        header = container[pos] | container[pos + 1] << 8
        raw = not header & 0x8000
        pos += (header & 0x0FFF) + 3
    return raw


def expected_after_round_trip(data):
    """What decompress(compress(data)) must give: data itself, unless the last chunk was
    stored raw (the spec pads a raw chunk to 4096 bytes with zeros)."""
    c = ovba.compress(data)
    if len(data) % CHUNK and last_chunk_is_raw(c):
        tail = len(data) % CHUNK
        # Raw only when literal tokens alone would not fit (3641+ bytes, few repeats).
        assert tail + (tail + 7) // 8 > CHUNK
        return data + b"\x00" * (CHUNK - tail)
    return data


def check(data):
    c = ovba.compress(data)
    want = expected_after_round_trip(data)
    assert ovba.decompress(c) == want
    assert oletools_decompress(c) == want


# Sizes around every boundary that matters: chunk (4096), token sequence (8), the copy
# token's bit split (16, 32, ... 2048 bytes into a chunk), 4 KB (where ms-ovba breaks), 64 KB.
EDGE_SIZES = [0, 1, 2, 3, 7, 8, 9, 16, 17, 4095, 4096, 4097, 8191, 8192, 8193, 65535, 65536,
              65537, 70000]


@pytest.mark.parametrize("size", EDGE_SIZES)
@pytest.mark.parametrize("kind", ["vba", "random", "same byte"])
def test_round_trip_at_edge_sizes(size, kind):
    rng = random.Random(size)
    if kind == "vba":
        data = "".join(rng.choice(VBA_WORDS) for _ in range(size)).encode()[:size]
    elif kind == "random":
        data = rng.randbytes(size)
    else:
        data = b"a" * size
    check(data)


@settings(max_examples=examples(60))
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(0, 80_000),
       alphabet=st.sampled_from([b"ab", b"abc \r\n", bytes(range(32, 127)), bytes(range(256))]))
def test_round_trip_random_text(seed, size, alphabet):
    rng = random.Random(seed)
    check(bytes(rng.choice(alphabet) for _ in range(size)))


@settings(max_examples=examples(60))
@given(phrases=st.lists(st.binary(min_size=1, max_size=40), min_size=1, max_size=12),
       picks=st.lists(st.integers(0, 11), min_size=1, max_size=3000))
def test_round_trip_repetitive_text(phrases, picks):
    check(b"".join(phrases[i % len(phrases)] for i in picks))


@given(st.binary(max_size=5000))
def test_round_trip_any_bytes(data):
    check(data)


def test_program_text_never_needs_a_raw_chunk():
    """Excel drops modules stored with raw chunks: VBA-like text of any size compresses."""
    rng = random.Random(1)
    for size in (100, 4096, 20_000, 70_000):
        text = "".join(rng.choice(VBA_WORDS) for _ in range(size)).encode()
        assert not ovba.uses_raw_chunk(ovba.compress(text))


def template_streams():
    with zipfile.ZipFile(template_path()) as z:
        return cfb.read(z.read("xl/vbaProject.bin"))


def test_reads_what_microsoft_wrote():
    """The template's dir and xlwings streams: ours and oletools decompress them alike."""
    s = template_streams()
    for name in ("VBA/dir", "VBA/xlwings"):
        assert ovba.decompress(s[name]) == oletools_decompress(s[name])


def test_compresses_about_as_well_as_excel():
    """Excel's own stream for the 44 KB xlwings module; ours must stay within 5 %."""
    s = template_streams()
    source = ovba.decompress(s["VBA/xlwings"])
    assert len(source) > 40_000
    ours = ovba.compress(source)
    assert oletools_decompress(ours) == source
    assert len(ours) <= len(s["VBA/xlwings"]) * 1.05


@pytest.mark.parametrize("bad", [b"", b"\x02abc", b"\x01\x05", b"\x01\xff\x00",
                                 b"\x01\x03\xb0\x02\x00\x00"])
def test_malformed_containers_raise(bad):
    with pytest.raises(ovba.OvbaError):
        ovba.decompress(bad)
