"""Consolidation and the dossier (RULES.md M, issue 13): 申报材料 齐全 / 缺 N 项 where an
application's dossier folder is present; 盖章扫描件 有/无 per recommender (M12)."""


from openpyxl import load_workbook

from xl_addin.consolidate import consolidate
from xl_addin.demo.dossier import STUBS, write_dossier
from xl_addin.forms.fill import fill_recommender
from xl_addin.rules.campaign import load

C = load(2023)


def rows_of(path, sheet):
    ws = load_workbook(path, read_only=True)[sheet]
    data = list(ws.values)
    return data


def test_dossier_and_scan_columns(tmp_path):
    inbox = tmp_path / "收件"
    a = write_dossier(inbox / "浦东" / "甲", "服务类", campaign=C)
    b = write_dossier(inbox / "浦东" / "乙", "产品类", campaign=C)
    b["files"]["trademark"].unlink()                        # 乙: M08
    fill_recommender(inbox / "浦东" / "附件3_浦东.xlsx", {"recommender": "浦东推荐单位"}, [], C)
    (inbox / "浦东" / "附件3_浦东.pdf").write_bytes(STUBS["pdf"])
    fill_recommender(inbox / "闵行" / "附件3_闵行.xlsx", {"recommender": "闵行推荐单位"}, [], C)
    out = tmp_path / "汇总.xlsx"
    consolidate(inbox, out, C, progress=False, workers=1)
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


def test_each_folder_is_listed_once_per_run(tmp_path, monkeypatch):
    """The dossier lookup lists a folder once per run, not once per application in it (it
    was O(n) per application: listing, classifying and probing every workbook beside it)."""
    from collections import Counter

    from xl_addin.consolidate import materials
    from xl_addin.demo import write_campaign
    demo = write_campaign(tmp_path / "收件", n_apps=12, n_recommenders=2, broken=False, campaign=C)
    folders = sorted({p.parent for p in demo.folder.rglob("申请书/*.xlsx")})
    assert len(folders) == 2 and all(len(list(f.glob("*.xlsx"))) > 3 for f in folders)
    for f in folders:  # a material-named file: the lookup must then probe the workbooks
        (f / "营业执照.pdf").write_bytes(STUBS["pdf"])
    listed, probed = Counter(), Counter()
    real_files, real_books = materials.dossier_files, materials._application_workbooks

    def count_files(folder):
        listed[folder] += 1
        return real_files(folder)

    def count_books(files):
        probed[files[0].parent if files else None] += 1
        return real_books(files)
    monkeypatch.setattr(materials, "dossier_files", count_files)
    monkeypatch.setattr(materials, "_application_workbooks", count_books)
    out = tmp_path / "汇总.xlsx"
    consolidate(demo.folder, out, C, progress=False, workers=1)
    assert dict(listed) == {f: 1 for f in folders}
    assert dict(probed) == {f: 1 for f in folders}
    assert materials._cache is None  # forgotten after the run: the next run lists afresh
    summary = rows_of(out, "汇总")
    col = list(summary[0]).index("申报材料")
    # several applications share each folder: not one applicant's dossier, as before
    assert {r[col] for r in summary[1:]} == {None}
    consolidate(demo.folder, out, C, progress=False, workers=1)
    assert dict(listed) == {f: 2 for f in folders}


def test_a_sparse_file_in_a_dossier_is_recorded_never_hashed(tmp_path, monkeypatch):
    """Issue 19 §7: a 256 GB sparse file inside the inbox used to be hashed byte by byte
    (killed at 120 s). It is now recorded as sparse from its stat, and its item is missing
    (its M code with the reason), in the 文件清单 and the dossier's findings alike."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).parent))
    from bombs import sparse_file
    from master_sheets import sheet

    from xl_addin.consolidate import walk
    inbox = tmp_path / "收件"
    made = write_dossier(inbox / "浦东" / "甲", "服务类", campaign=C)
    db = made["files"]["database"]
    db.unlink()
    sparse_file(db)
    sparse_file(inbox / "浦东" / "大表格.xlsx", 2**40)  # 1 TB, named as a workbook
    hashed = []
    real = walk.sha256
    monkeypatch.setattr(walk, "sha256", lambda p, *a: hashed.append(p.name) or real(p, *a))
    out = tmp_path / "汇总.xlsx"
    consolidate(inbox, out, C, progress=False, workers=1)
    assert db.name not in hashed and "大表格.xlsx" not in hashed and "申请书.xlsx" in hashed
    files = {r["文件"]: r for r in sheet(out, "文件清单")}
    row = files[f"浦东/甲/{db.name}"]
    assert (row["状态"], row["原因/说明"], row["SHA-256"]) == (
        "已忽略", "稀疏文件（标称 256 GB，实际只占 0 字节），不是真实的文件内容，未读取", "")
    row = files["浦东/大表格.xlsx"]
    assert (row["状态"], row["原因/说明"]) == (
        "已拒收", "稀疏文件（标称 1 TB，实际只占 0 字节），不是真实的文件内容，未读取；"
                 "请提交正常大小的 .xlsx 工作簿")
    issues = [r["问题说明"] for r in sheet(out, "问题清单") if r.get("问题代码") == "M10"]
    assert issues == [f"“{db.name}”是稀疏文件（标称 256 GB，实际只占 0 字节），不是真实的文件内容，"
                      "不能算作数据库（M10）"]
    summary = sheet(out, "汇总")
    assert [r["申报材料"] for r in summary if r["企业名称"]] == ["缺 1 项"]
