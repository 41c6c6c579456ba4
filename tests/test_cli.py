"""`saq` as a user meets it: exact messages and exit codes, no tracebacks."""

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from xl_addin.cli import main

ROOT = Path(__file__).parents[1]
EXAMPLE = ROOT / "examples" / "申请汇总示例.csv"


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_rules_prints_every_part_of_the_campaign(capsys):
    code, out, err = run(capsys, "rules")
    assert code == 0 and err == ""
    for heading in ("一、时间安排（C）", "二、类别与等级（K）", "三、满意度测量项目自评表",
                    "四、星级条件（L）", "五、问题代码（E）", "六、申请材料（M）", "七、本年度的决定"):
        assert heading in out
    assert "C2    申请截止日期" in out
    assert "se_M1_changed_unreviewed" in out and "扣 2 分" in out
    assert "满意度 ≥ 85" in out
    assert "加分项计入评价得分" in out


def test_rules_lists_the_material_codes(capsys, tmp_path):
    """Issue 13: `saq rules` and docs/rules.md list M01–M12 with their rule and items, from
    the campaign."""
    from xl_addin.rules.campaign import load
    c = load()
    code, out, err = run(capsys, "rules")
    assert code == 0 and err == ""
    m_part = out.split("六、申请材料（M）")[1].split("七、本年度的决定")[0]
    assert [ln[:3] for ln in m_part.splitlines() if ln[:1] == "M"] == sorted(c.materials)
    target = tmp_path / "rules.md"
    assert run(capsys, "rules", "--markdown", str(target))[0] == 0
    md = target.read_text(encoding="utf-8")
    for code_, m in sorted(c.materials.items()):
        sev = "错误" if m["severity"] == "error" else "提醒"
        assert f"| {code_} | {sev} | {m['rule']} | " in md, code_
    assert "| M10 | 错误 | " in md and "数据库（sav/csv/xlsx/xls/dta/zip）" in md
    sec = c.materials["M05"]["sections"][2]
    assert f"{sec['title']}：{sec['min']}–{sec['max']} 字" in md


def test_eval_missing_file(capsys, tmp_path):
    code, out, err = run(capsys, "eval", str(tmp_path / "无此文件.csv"))
    assert code == 2 and out == ""
    assert err == f"错误：无法读取文件 {tmp_path / '无此文件.csv'}：文件不存在\n"


def test_eval_old_excel_format(capsys, tmp_path):
    p = tmp_path / "旧表.xls"
    p.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    code, _, err = run(capsys, "eval", str(p))
    assert code == 2
    assert err == f"错误：无法读取文件 {p}：不支持旧版 .xls/.et 格式，请另存为 .xlsx 后重新提交\n"


def test_eval_broken_xlsx(capsys, tmp_path):
    p = tmp_path / "坏.xlsx"
    p.write_bytes(b"PK\x03\x04 truncated")
    code, _, err = run(capsys, "eval", str(p))
    assert code == 2
    assert err == f"错误：无法读取文件 {p}：不是有效的 .xlsx 文件（可能已损坏或已加密）\n"


def test_eval_unknown_campaign(capsys, tmp_path):
    code, _, err = run(capsys, "eval", str(EXAMPLE), "--campaign", "1999")
    assert code == 2
    assert err == ("错误：--campaign 指定的 1999 年没有活动配置：本程序只有 2023、2024 年的活动配置；"
                   "请安装支持该年度的新版本，或用 --campaign 指定活动配置文件（.toml）\n")


def test_eval_example_writes_the_table_with_results(capsys, tmp_path):
    src = tmp_path / "申请.csv"
    shutil.copy(EXAMPLE, src)
    code, out, err = run(capsys, "eval", str(src))
    target = tmp_path / "申请_评估结果.xlsx"
    assert code == 0 and err == ""
    assert out.endswith(f"结果已写入 {target}\n")
    assert "共 10 行：7 行有错误，1 行仅有提醒，2 行无问题。" in out  # 工程类 rows lack 验收日期 (E31)
    ws = openpyxl.load_workbook(target).active
    header = [c.value for c in ws[1]]
    assert header[-6:] == ["自评分", "自评结论", "可评等级", "建议等级", "问题代码", "问题说明"]
    with open(EXAMPLE, encoding="utf-8-sig") as f:
        source_rows = list(csv.reader(f))
    assert header[:-6] == [h if h != "自评分" else "自评分（原表）" for h in source_rows[0]]
    assert ws.max_row == len(source_rows)  # nothing lost
    rows = {r[2]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    pujiang = rows["上海浦江客运服务有限公司"]
    assert pujiang[-4:-2] == ("用户满意标杆", "用户满意标杆") and not pujiang[-2]
    assert "E16" in rows["上海宝钢物流服务有限公司"][-2]


def test_eval_never_writes_a_formula_from_a_submission(capsys, tmp_path):
    out = tmp_path / "r.xlsx"
    run(capsys, "eval", str(EXAMPLE), "-o", str(out))
    ws = openpyxl.load_workbook(out).active
    cells = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str)
             and c.value.startswith("=")]
    assert cells and all(c.data_type == "s" for c in cells)


def test_eval_strict_exit_code(capsys, tmp_path):
    code, _, _ = run(capsys, "eval", str(EXAMPLE), "-o", str(tmp_path / "r.csv"), "--strict")
    assert code == 1


def test_module_entry_point_and_no_traceback(tmp_path):
    r = subprocess.run([sys.executable, "-m", "xl_addin", "eval", str(tmp_path / "x.csv")],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and r.stderr.startswith("错误：无法读取文件")


@pytest.mark.parametrize("argv", [["--version"]])
def test_version(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0
    assert capsys.readouterr().out.startswith("saq ")


def test_an_internal_bug_gives_one_message_and_a_log(capsys, monkeypatch):
    import xl_addin.rules.text as rt

    def broken(c):
        raise ZeroDivisionError("division by zero")
    monkeypatch.setattr(rt, "describe", broken)
    code, out, err = run(capsys, "rules")
    assert code == 3 and out == ""
    assert err.startswith("错误：程序内部错误（ZeroDivisionError: division by zero）。详细信息已写入 ")
    assert "Traceback" not in err
