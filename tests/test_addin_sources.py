"""The links of the add-in (issue 6 "How it is proven"): every onAction in customUI.xml has
its VBA Sub, every RunPython names a function of xl_addin/excel/ribbon.py, every UDF has its VBA
wrapper, and the committed generated module equals a fresh generation."""

from __future__ import annotations

import re

import pytest
from defusedxml import ElementTree

from xl_addin.excel import ribbon
from xl_addin.excel.addin import udfwrap, vbaproject
from xl_addin.excel.addin.xlam import MACROS

NS = "{http://schemas.microsoft.com/office/2006/01/customui}"
BUTTON_LABELS = ["新建申请书", "新建推荐表", "校验当前工作簿", "汇总推荐材料", "补正通知", "生成专家评分表",
                 "汇总专家评分", "导出PDF", "规则说明", "帮助"]


def buttons():
    root = ElementTree.parse(MACROS / "customUI.xml").getroot()
    return list(root.iter(NS + "button"))


def vba_subs(text):
    """Sub name -> body lines, from VBA source."""
    out, name = {}, None
    for line in text.splitlines():
        m = re.match(r"\s*(?:Public\s+|Private\s+)?Sub\s+(\w+)\s*\(", line)
        if m:
            name, out[m.group(1)] = m.group(1), []
        elif re.match(r"\s*End Sub", line):
            name = None
        elif name:
            out[name].append(line.strip())
    return out


RIBBON_BAS = (MACROS / "SAQRibbon.bas").read_text(encoding="ascii")


def test_the_tab_has_the_ten_buttons_with_icons_and_chinese_tips():
    root = ElementTree.parse(MACROS / "customUI.xml").getroot()
    (tab,) = root.iter(NS + "tab")
    assert tab.get("label") == "用户满意评价"
    bs = buttons()
    assert sorted(b.get("label") for b in bs) == sorted(BUTTON_LABELS)
    for b in bs:
        assert b.get("imageMso"), b.get("label")
        for tip in ("screentip", "supertip"):
            assert re.search(r"[\u4e00-\u9fff]", b.get(tip) or ""), (b.get("label"), tip)
    ids = [b.get("id") for b in bs]
    assert len(set(ids)) == len(ids)


def test_every_on_action_has_its_vba_sub():
    subs = vba_subs(RIBBON_BAS)
    for b in buttons():
        module, _, sub = b.get("onAction").partition(".")
        assert module == "SAQRibbon", b.get("onAction")
        assert sub in subs, f"{b.get('label')}: no Sub {sub} in SAQRibbon.bas"
        assert re.search(rf"Sub\s+{sub}\s*\(control As IRibbonControl\)", RIBBON_BAS)


def test_every_run_python_names_a_ribbon_handler():
    calls = re.findall(r'RunPython\s+"import xl_addin\.excel\.ribbon; xl_addin\.excel\.ribbon\.(\w+)\(\)"',
                       RIBBON_BAS)
    assert len(calls) == len(re.findall(r"^\s*RunPython\b", RIBBON_BAS, re.M)) == len(buttons())
    for name in calls:
        fn = getattr(ribbon, name, None)
        assert callable(fn) and getattr(fn, "is_ribbon_handler", False), name
    assert sorted(calls) == sorted(ribbon.HANDLERS)


def test_each_button_sub_runs_exactly_one_handler():
    subs = vba_subs(RIBBON_BAS)
    for b in buttons():
        body = subs[b.get("onAction").split(".")[1]]
        assert sum(line.startswith("RunPython") for line in body) == 1


def test_every_udf_has_its_wrapper():
    wrapper = (MACROS / "xlwings_udfs.bas").read_text(encoding="ascii")
    names = udfwrap.udf_names()
    assert names, "xl_addin/excel/udfs.py has no @xw.func"
    for n in names:
        assert re.search(rf"^Function {n}\(", wrapper, re.M), n
        assert f'XLPy.CallUDF("xl_addin.excel.udfs", "{n}"' in wrapper
    assert set(re.findall(r"^Function (\w+)\(", wrapper, re.M)) == set(names)


def test_committed_udf_module_equals_a_fresh_generation():
    """macros/xlwings_udfs.bas is generated: after editing udfs.py, regenerate it with
    python -c "from xl_addin.excel.addin import udfwrap, vbaproject as v; open('macros/xlwings_udfs.bas','w',newline='').write(v.normalise_source(udfwrap.generate()))"."""
    fresh = vbaproject.normalise_source(udfwrap.generate())
    assert (MACROS / "xlwings_udfs.bas").read_bytes().decode("ascii") == fresh


def test_generation_leaves_no_windows_stand_ins_behind():
    import sys
    udfwrap.generate()
    for name in ("pythoncom", "pywintypes", "win32com.client"):
        assert name not in sys.modules
    import xlwings
    assert xlwings.func.__module__ != "xlwings.udfs"


@pytest.mark.parametrize("name", ["SAQRibbon.bas", "xlwings_udfs.bas"])
def test_vba_sources_are_ascii(name):
    """The VBA project's code page is 1252: user text lives in Python, not in VBA."""
    (MACROS / name).read_bytes().decode("ascii")
