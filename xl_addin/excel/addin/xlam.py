"""Build dist/SAQ.xlam from the xlwings wheel's ribbon add-in template.

What changes against the template: the ribbon (macros/customUI.xml), the VBA project
(rebuilt from source: the template's xlwings, Dictionary and document modules, our ribbon
callbacks, and the UDF wrappers generated from xl_addin/excel/udfs.py), and the config sheet,
renamed to ``saq.conf`` and naming ``xl_addin.excel.udfs`` as the UDF module. Everything else
(styles, theme, content types) is the template's, byte for byte.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import xlwings
from defusedxml import ElementTree

from xl_addin.errors import OutputFileError, os_reason
from xl_addin.excel.addin import udfwrap, vbaproject
from xl_addin.excel.addin.errors import AddinBuildError

PROJECT = "saq"                 # xlwings PROJECT_NAME: config sheet saq.conf, ~/.saq/saq.conf
VBA_PROJECT_NAME = "SAQ"
ADDIN_NAME = "SAQ.xlam"
UDF_MODULE = "xl_addin.excel.udfs"
RIBBON_MODULE = "SAQRibbon"
UDF_VBA_MODULE = "xlwings_udfs"
CONF_SHEET = f"{PROJECT}.conf"
#: what the add-in's config sheet says (key, value) — xlwings reads it by GetConfig().
CONFIG = (("UDF Modules", UDF_MODULE),)

MACROS = Path(__file__).resolve().parents[3] / "macros"
_ZIP_TIME = (2023, 1, 1, 0, 0, 0)  # fixed: the same sources give the same file


def template_path():
    """The ribbon add-in template inside the installed xlwings wheel."""
    return Path(xlwings.__file__).parent / "quickstart_addin_ribbon.xlam"


@dataclass
class BuildResult:
    path: Path
    modules: dict = field(default_factory=dict)  # name -> source as written (CRLF)
    size: int = 0


def _read_macro(name):
    p = MACROS / name
    if not p.is_file():
        raise AddinBuildError(f"缺少 VBA 源文件 {p}（应随项目提供，见 macros/ 目录）")
    return p.read_text(encoding="ascii")


def xlwings_module_source(template_sources):
    """The template's xlwings module with PROJECT_NAME = "saq" (config sheet and file)."""
    src = template_sources["xlwings"]
    pattern = r'(Public Const PROJECT_NAME As String = )"[^"]*"'
    if len(re.findall(pattern, src)) != 1:
        raise AddinBuildError("xlwings 模板的 VBA 模块中找不到唯一的 PROJECT_NAME 常量，"
                              "xlwings 版本可能已变化，请检查 pyproject.toml 中的 xlwings 版本")
    return re.sub(pattern, rf'\1"{PROJECT}"', src)


def modules(template_bin):
    """The VBA modules of SAQ.xlam, in project order, as :class:`vbaproject.Module`."""
    src = vbaproject.read_sources(template_bin)
    kinds = vbaproject.module_kinds(template_bin)
    out = []
    for name in kinds:
        if kinds[name] == "document" or kinds[name] == "class":
            out.append(vbaproject.Module(name, kinds[name], src[name]))
    out.append(vbaproject.Module("xlwings", "module", xlwings_module_source(src)))
    out.append(vbaproject.Module(RIBBON_MODULE, "module", _read_macro(f"{RIBBON_MODULE}.bas")))
    out.append(vbaproject.Module(UDF_VBA_MODULE, "module",
                                 udfwrap.generate(UDF_MODULE, UDF_VBA_MODULE, ADDIN_NAME)))
    return out


def custom_ui():
    """macros/customUI.xml, checked to be well-formed XML."""
    p = MACROS / "customUI.xml"
    data = p.read_bytes()
    try:
        ElementTree.fromstring(data)
    except Exception as e:  # noqa: BLE001 - report any parser complaint as one message
        raise AddinBuildError(f"{p} 不是有效的 XML：{e}") from None
    return data


def _conf_sheet(template_xml):
    """sheet1.xml with the config rows (inline strings, so no shared strings are needed)."""
    rows = "".join(
        f'<row r="{i}"><c r="A{i}" s="1" t="inlineStr"><is><t>{escape(k)}</t></is></c>'
        f'<c r="B{i}" s="1" t="inlineStr"><is><t>{escape(v)}</t></is></c></row>'
        for i, (k, v) in enumerate(CONFIG, 1))
    xml = template_xml.decode("utf-8")
    xml = re.sub(r"<sheetData>.*</sheetData>", f"<sheetData>{rows}</sheetData>", xml, flags=re.S)
    xml = re.sub(r'<dimension ref="[^"]*"', f'<dimension ref="A1:B{len(CONFIG)}"', xml)
    xml = xml.replace('<col min="2" max="2" width="9.25"', '<col min="2" max="2" width="16"')
    return xml.encode("utf-8")


def _workbook_xml(xml):
    text = xml.decode("utf-8")
    text = re.sub(r'<sheet name="[^"]*"', f'<sheet name="{CONF_SHEET}"', text, count=1)
    # The template remembers its author's folder; nobody needs it.
    text = re.sub(r"<mc:AlternateContent.*?</mc:AlternateContent>", "", text, flags=re.S)
    return text.encode("utf-8")


def _core_xml(xml):
    text = xml.decode("utf-8")
    text = text.replace("<dc:title />", "<dc:title>用户满意评价 Excel 加载项</dc:title>")
    text = re.sub(r"<dc:creator>[^<]*</dc:creator>", "<dc:creator>xl_addin</dc:creator>", text)
    text = re.sub(r"<cp:lastModifiedBy>[^<]*</cp:lastModifiedBy>",
                  "<cp:lastModifiedBy>xl_addin</cp:lastModifiedBy>", text)
    return text.encode("utf-8")


def build(out=None, template=None):
    """Write SAQ.xlam.

    Args:
        out: the .xlam to write (default dist/SAQ.xlam beside macros/).
        template: the xlwings ribbon add-in template (default: from the installed wheel).
    Returns:
        BuildResult
    Raises:
        AddinBuildError: template or VBA sources missing or unusable.
        OutputFileError: the file cannot be written.
    """
    template = Path(template or template_path())
    out = Path(out or MACROS.parent / "dist" / ADDIN_NAME)
    if not template.is_file():
        raise AddinBuildError(f"找不到 xlwings 加载项模板 {template}（请确认已安装 xlwings）")
    with zipfile.ZipFile(template) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    tbin = parts["xl/vbaProject.bin"]
    mods = modules(tbin)
    try:
        parts["xl/vbaProject.bin"] = vbaproject.build(tbin, mods, VBA_PROJECT_NAME)
    except vbaproject.VbaProjectError as e:
        raise AddinBuildError(f"无法生成 VBA 工程：{e}") from None
    parts["customUI/customUI.xml"] = custom_ui()
    parts["xl/worksheets/sheet1.xml"] = _conf_sheet(parts["xl/worksheets/sheet1.xml"])
    parts["xl/workbook.xml"] = _workbook_xml(parts["xl/workbook.xml"])
    parts["docProps/core.xml"] = _core_xml(parts["docProps/core.xml"])

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name, _ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    data = buf.getvalue()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(out)
    except OSError as e:
        raise OutputFileError(out, f"{os_reason(e)}（加载项是否正在 Excel 中打开？）") from None
    return BuildResult(out, {m.name: vbaproject.normalise_source(m.source) for m in mods},
                       len(data))
