"""Consolidation and the dossier (RULES.md M, issue 13): 申报材料 齐全 / 缺 N 项 where an
application's dossier folder is present; 盖章扫描件 有/无 per recommender (M12)."""


from openpyxl import load_workbook

from xl_addin.consolidate import consolidate
from xl_addin.demo.dossier import STUBS, write_dossier
from xl_addin.forms.fill import fill_recommender


def rows_of(path, sheet):
    ws = load_workbook(path, read_only=True)[sheet]
    data = list(ws.values)
    return data


def test_dossier_and_scan_columns(tmp_path):
    inbox = tmp_path / "收件"
    a = write_dossier(inbox / "浦东" / "甲" , "服务类")
    b = write_dossier(inbox / "浦东" / "乙", "产品类")
    b["files"]["trademark"].unlink()                        # 乙: M08
    fill_recommender(inbox / "浦东" / "附件3_浦东.xlsx", {"recommender": "浦东推荐单位"}, [])
    (inbox / "浦东" / "附件3_浦东.pdf").write_bytes(STUBS["pdf"])
    fill_recommender(inbox / "闵行" / "附件3_闵行.xlsx", {"recommender": "闵行推荐单位"}, [])
    out = tmp_path / "汇总.xlsx"
    consolidate(inbox, out, progress=False, workers=1)
    summary = rows_of(out, "汇总")
    head = list(summary[0])
    col, org = head.index("申报材料"), head.index("企业名称")
    got = {r[org]: r[col] for r in summary[1:] if r[org]}
    assert got == {a["values"]["org_name"]: "齐全", b["values"]["org_name"]: "缺 1 项"}
    stats = rows_of(out, "统计")
    hrow = next(i for i, r in enumerate(stats) if r and r[0] == "推荐单位" and "盖章扫描件" in r)
    j = stats[hrow].index("盖章扫描件")
    scans = {r[0]: r[j] for r in stats[hrow + 1:] if r and r[0] in ("浦东推荐单位", "闵行推荐单位")}
    assert scans == {"浦东推荐单位": "有", "闵行推荐单位": "无"}
    issues = rows_of(out, "问题清单")
    codes = [r for r in issues if r and "M12" in r]
    assert len(codes) == 1
