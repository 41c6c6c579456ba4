"""Build a vbaProject.bin (MS-OVBA) whose modules are source only.

The form is the one xlwings ships its add-ins in: every module stream is the compressed
source at offset 0 (no p-code), the `_VBA_PROJECT` stream is the 7-byte header with version
0xFFFF (so Excel throws away nothing and compiles from source), no `__SRP_` streams. Project
information and references are copied from a template project (the xlwings wheel's add-in),
so the references Excel resolves are exactly the ones that template was saved with.
"""

from __future__ import annotations

import hashlib
import struct
import uuid
from dataclasses import dataclass

from xl_addin.excel.addin import cfb, ovba

# MS-OVBA 2.3.4.2 record ids used below.
_NAME, _MODULES, _COOKIE, _VERSION = 0x0004, 0x000F, 0x0013, 0x0009
_REFERENCE_FIRST = 0x0016  # REFERENCENAME opens the references block
_TERMINATOR = 0x0010
_VBA_PROJECT = b"\xcc\x61\xff\xff\x00\x01\x00"  # 2.3.4.1: version 0xFFFF = "compile from source"
HOST_EXTENDER = "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000"

KINDS = ("module", "class", "document")


class VbaProjectError(ValueError):
    """The template project or a module cannot be written in this form (says why)."""


@dataclass
class Module:
    """One VBA module: ``kind`` is module (.bas), class (.cls) or document (sheet/workbook)."""

    name: str
    kind: str
    source: str


# ---------------------------------------------------------------------- dir stream records
def parse_dir(data):
    """Records of a decompressed `dir` stream as (id, payload) pairs (payload after size)."""
    out, pos = [], 0
    while pos + 6 <= len(data):
        rid, size = struct.unpack_from("<HI", data, pos)
        pos += 6
        if rid == _VERSION:  # PROJECTVERSION: Reserved(=4) then 4 + 2 bytes (2.3.4.2.1.11)
            size = 6
        out.append((rid, data[pos:pos + size]))
        pos += size
        if rid == _TERMINATOR:
            break
    return out


def _rec(rid, payload):
    size = 4 if rid == _VERSION else len(payload)
    return struct.pack("<HI", rid, size) + payload


def split_template_dir(data):
    """(information records, reference records) of a template's decompressed `dir`."""
    recs = parse_dir(data)
    ids = [r for r, _ in recs]
    first_ref = ids.index(_REFERENCE_FIRST) if _REFERENCE_FIRST in ids else ids.index(_MODULES)
    return recs[:first_ref], recs[first_ref:ids.index(_MODULES)]


def _module_records(m, codepage):
    name = m.name.encode(codepage)
    uname = m.name.encode("utf-16-le")
    doc = _description(m.source)
    out = _rec(0x0019, name) + _rec(0x0047, uname)
    out += _rec(0x001A, name) + _rec(0x0032, uname)
    out += _rec(0x001C, doc.encode(codepage)) + _rec(0x0048, doc.encode("utf-16-le"))
    out += _rec(0x0031, struct.pack("<I", 0))          # MODULEOFFSET: source starts at 0
    out += _rec(0x001E, struct.pack("<I", 0))          # help context
    out += _rec(0x002C, struct.pack("<H", 0xFFFF))     # cookie: 0xFFFF on write
    out += _rec(0x0021 if m.kind == "module" else 0x0022, b"")
    return out + _rec(0x002B, b"")


def _description(source):
    """The VB_Description attribute of a module (its MODULEDOCSTRING), or ''."""
    for line in source.splitlines():
        if line.startswith("Attribute VB_Description = "):
            return line.split("=", 1)[1].strip().strip('"')
    return ""


def build_dir(info, references, modules, project_name, codepage):
    """The decompressed `dir` stream: information (name replaced), references, modules."""
    out = b""
    for rid, payload in info:
        out += _rec(rid, project_name.encode(codepage) if rid == _NAME else payload)
    for rid, payload in references:
        out += _rec(rid, payload)
    out += _rec(_MODULES, struct.pack("<H", len(modules)))
    out += _rec(_COOKIE, struct.pack("<H", 0xFFFF))
    for m in modules:
        out += _module_records(m, codepage)
    return out + _rec(_TERMINATOR, b"")


def codepage_of(info):
    for rid, payload in info:
        if rid == 0x0003:
            return f"cp{struct.unpack('<H', payload)[0]}"
    return "cp1252"


# ---------------------------------------------------------------------- PROJECT stream
def encrypt(data, project_id, seed):
    """MS-OVBA 2.4.3.2 data encryption (used for CMG, DPB and GC), deterministic by seed.

    Args:
        data: bytes to protect.
        project_id: the project's ID string ("{GUID}"); its byte sum is the key.
        seed: 0-255.
    Returns:
        str: upper-case hex.
    """
    version = 2
    key = sum(project_id.encode("ascii")) & 0xFF
    out = bytearray([seed, seed ^ version, seed ^ key])
    u1, e1, e2 = key, seed ^ key, seed ^ version
    ignored = [(seed * 7 + i * 31) & 0xFF for i in range((seed & 6) // 2)]
    for b in ignored + list(struct.pack("<I", len(data))) + list(data):
        enc = b ^ ((e2 + u1) & 0xFF)
        out.append(enc)
        e2, e1, u1 = e1, enc, b
    return out.hex().upper()


def decrypt(text):
    """Inverse of :func:`encrypt`: (project key, data)."""
    b = bytes.fromhex(text)
    seed, key = b[0], b[0] ^ b[2]
    u1, e1, e2 = key, b[2], b[1]
    plain, i = [], 3
    while i < len(b):
        enc = b[i]
        p = enc ^ ((e2 + u1) & 0xFF)
        plain.append(p)
        e2, e1, u1 = e1, enc, p
        i += 1
    skip = (seed & 6) // 2
    n = int.from_bytes(bytes(plain[skip:skip + 4]), "little")
    data = bytes(plain[skip + 4:])
    if len(data) != n:
        raise VbaProjectError(f"encrypted length {len(data)} != {n}")
    return key, data


def build_project_stream(project_id, name, modules, codepage, seed):
    """The `PROJECT` stream (2.3.1): module list, name, unprotected and visible project."""
    lines = [f'ID="{project_id}"']
    for m in modules:
        if m.kind == "document":
            lines.append(f"Document={m.name}/&H00000000")
        elif m.kind == "class":
            lines.append(f"Class={m.name}")
        else:
            lines.append(f"Module={m.name}")
    cmg = encrypt(struct.pack("<I", 0), project_id, seed)         # not protected
    dpb = encrypt(b"\x00", project_id, (seed + 1) & 0xFF)          # no password
    gc = encrypt(b"\xff", project_id, (seed + 2) & 0xFF)           # visible
    lines += [f'Name="{name}"', 'HelpContextID="0"', 'VersionCompatible32="393222000"',
              f'CMG="{cmg}"', f'DPB="{dpb}"', f'GC="{gc}"',
              "", "[Host Extender Info]", HOST_EXTENDER, "", "[Workspace]"]
    lines += [f"{m.name}=0, 0, 0, 0, C" for m in modules]
    return ("\r\n".join(lines) + "\r\n").encode(codepage)


def build_projectwm(modules, codepage):
    out = b""
    for m in modules:
        out += m.name.encode(codepage) + b"\x00" + m.name.encode("utf-16-le") + b"\x00\x00"
    return out + b"\x00\x00"


# ---------------------------------------------------------------------- the project
def normalise_source(text):
    """CRLF line ends, ending with one line break: the form the VBA editor stores."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n").split("\n")
    return "\r\n".join(lines) + "\r\n"


def build(template_bin, modules, project_name):
    """A vbaProject.bin with ``modules`` (source only), references from ``template_bin``.

    Args:
        template_bin: bytes of a vbaProject.bin to take information and references from.
        modules: list of :class:`Module`; the first document module must be ThisWorkbook.
        project_name: the VBA project name (ASCII identifier).
    Returns:
        bytes: the compound file.
    Raises:
        VbaProjectError: a module's source that the project code page cannot hold, or a
            module that would need an uncompressed chunk (Excel drops such modules).
    """
    streams = cfb.read(template_bin)
    info, refs = split_template_dir(ovba.decompress(streams["VBA/dir"]))
    cp = codepage_of(info)
    seed = hashlib.sha256(project_name.encode()).digest()[0]
    project_id = "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, "saq-addin:" + project_name)).upper() + "}"
    out = {}
    names = set()
    for m in modules:
        if m.kind not in KINDS:
            raise VbaProjectError(f"module {m.name}: unknown kind {m.kind}")
        if m.name.lower() in names:
            raise VbaProjectError(f"module {m.name} appears twice")
        names.add(m.name.lower())
        try:
            raw = normalise_source(m.source).encode(cp)
        except UnicodeEncodeError as e:
            raise VbaProjectError(
                f"module {m.name}: character {e.object[e.start]!r} not in code page {cp}; "
                "keep VBA sources ASCII and put user text in Python") from None
        container = ovba.compress(raw)
        if ovba.uses_raw_chunk(container):
            raise VbaProjectError(f"module {m.name}: source does not compress")
        out["VBA/" + m.name] = container
    out["VBA/dir"] = ovba.compress(build_dir(info, refs, modules, project_name, cp))
    out["VBA/_VBA_PROJECT"] = _VBA_PROJECT
    out["PROJECT"] = build_project_stream(project_id, project_name, modules, cp, seed)
    out["PROJECTwm"] = build_projectwm(modules, cp)
    return cfb.write(out)


def module_kinds(bin_bytes):
    """{module name: kind} from a project's `PROJECT` stream (Document=, Class=, Module=)."""
    streams = cfb.read(bin_bytes)
    text = streams["PROJECT"].decode("latin-1")
    kinds = {"Document": "document", "Class": "class", "Module": "module"}
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key in kinds:
            out[value.split("/")[0]] = kinds[key]
    return out


def read_sources(bin_bytes):
    """{module name: source text} of a vbaProject.bin (any offset), via the `dir` stream."""
    streams = cfb.read(bin_bytes)
    recs = parse_dir(ovba.decompress(streams["VBA/dir"]))
    cp = codepage_of(recs)
    out, name, stream = {}, None, None
    for rid, payload in recs:
        if rid == 0x0019:
            name = payload.decode(cp)
        elif rid == 0x001A:
            stream = payload.decode(cp)
        elif rid == 0x0031:
            offset = struct.unpack("<I", payload)[0]
            out[name] = ovba.decompress(streams["VBA/" + stream][offset:]).decode(cp)
    return out
