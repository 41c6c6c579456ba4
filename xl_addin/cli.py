"""The `saq` command: a thin wrapper over the library.

Each command parses its arguments, calls one library function and prints the result.
Library errors (SaqError) become one Chinese message on stderr and their exit code; a user
never sees a traceback.
"""

from __future__ import annotations

# Imports (issue 21). Every `saq` command pays for this module's imports before it starts,
# and `saq check FILE` must start fast (issue 23). So here stands what `saq check` loads
# anyway; what only another command needs is imported inside its handler (`# lazy:`).
# Measured (python -X importtime, median of 5, on top of what saq check loads): the forms,
# consolidation, review, demo and add-in modules add 180-510 ms each (openpyxl alone ~270 ms,
# xlwings ~470 ms, python-docx ~65 ms); read.dossier (the folder form of check) 7 ms.
# Even the light ones stay out: rules.text 3 ms, read.evaltable 1 ms, traceback 2 ms.
# So `saq check` loads the same modules as before the move: benchmarks/bench_udf.py gives it
# 156 ms of CPU (interpreter 23, imports 89, campaign 21, check 23; median of 9, bytecode
# cached), and `saq check workbooks/申请书_2023.xlsx` takes 505 ms before and after (median of
# 15, the two trees interleaved).
import argparse
import contextlib
import errno
import json
import os
import re
import sys
import tempfile
from pathlib import Path

from xl_addin import __version__, files, registry
from xl_addin.errors import SaqError, as_os_error, os_reason
from xl_addin.read import year
from xl_addin.read.check import check_file
from xl_addin.read.verdict import KINDS
from xl_addin.rules import parse as rules_parse
from xl_addin.rules.campaign import CAMPAIGN_DIR
from xl_addin.rules.show import fmt_number
from xl_addin.rules.textable import render
from xl_addin.tables import write_atomic


def _campaign(args, where=None):
    """The campaign of a command that reads no submissions: ``--campaign``, else the nearest
    活动.toml from ``where`` (default: the current folder) upwards, else the program's current
    campaign (read/year.py)."""
    return year.choose(getattr(args, "campaign", None), where).campaign


def _choose(args, where, years, command):
    """The campaign of a command that reads submissions: as :func:`_campaign`, then the
    year the files say (``years``, read/year.py), refusing files of mixed years."""
    return year.choose(getattr(args, "campaign", None), where, years, command)


def _arg(text):
    """A path as it is typed in a suggested command (quoted when it holds a space)."""
    text = files.terminal_text(text)
    return f'"{text}"' if any(ch in text for ch in " \t'\"&|;<>()") else text


def cmd_rules(args):
    from xl_addin.rules import text as rules_text  # lazy: 3 ms (see the top)
    c = _campaign(args)
    if args.markdown is None:
        print(rules_text.describe(c))
    elif args.markdown == "-":
        print(rules_text.markdown(c), end="")
    else:  # issue 10: docs/rules.md is generated from the campaign plus prose
        text = rules_text.markdown(c)
        p = write_atomic(args.markdown, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
        print(f"规则说明已写入 {p}")
    return 0


def cmd_eval(args):
    from xl_addin.read.evaltable import evaluate_table  # lazy: 1 ms (see the top)
    res = evaluate_table(args.table, args.output, _campaign(args, args.table))
    if res.unknown_headers:
        print("未识别的表头（原样保留，不参与检查）：" + "、".join(res.unknown_headers))
    print(render(["行", "企业名称", "自评分", "自评结论", "可评等级", "建议等级", "问题代码"],
                 res.summary, max_width=30))
    print(f"\n共 {res.rows} 行：{res.errors} 行有错误，{res.warnings} 行仅有提醒，"
          f"{res.ok} 行无问题。")
    print(f"结果已写入 {res.path}")
    return 1 if res.errors and args.strict else 0


COMMANDS = {}
CAMPAIGN_HELP = ("活动年度（如 2024）或活动配置文件；不指定时依次取：文件夹（或其上级）中的活动年度设置"
                 "（saq init 写入）、所读文件中的模板年度、程序的当前活动")


# -- issue 3: live workbooks (thin: all work is in xl_addin.forms / check / pdf)
def cmd_templates(args):
    from xl_addin.forms.templates import write_templates  # lazy: openpyxl (see the top)
    for kind, path in write_templates(args.output, _campaign(args, args.output)).items():
        print(f"已生成{'申请书' if kind == 'application' else '初审推荐意见表（附件3）'}模板：{path}")
    return 0


def _configure_templates(sp):
    sp.add_argument("-o", "--output", default="workbooks", help="输出文件夹，默认 workbooks")


def cmd_check(args):
    where = Path(args.file)
    if where.is_dir():  # issue 13: a whole 申报材料文件夹 (RULES.md M)
        years = year.folder_years(where, kinds=("application",))
    else:
        years = year.file_years(where, kinds=("application", "recommender"))
    choice = _choose(args, where, years, f"saq check {_arg(args.file)} --campaign {{year}}")
    if where.is_dir():
        return cmd_check_dossier(args, choice)
    res = check_file(args.file, choice.campaign, args.registry)
    if args.json:
        print(json.dumps({**res.as_json(), "campaign_year": choice.campaign.year},
                         ensure_ascii=False, indent=2))
        return 1 if res.errors else 0
    print(choice.line())
    print(f"{files.terminal_text(args.file)}：{KINDS[res.kind]}" +
          (f"，{res.rows} 行推荐" if res.kind == "recommender" else ""))
    if res.kind == "application":
        for k, v in (("评价得分", fmt_number(res.selfeval_total)), ("评价结论", res.conclusion),
                     ("可评等级", res.achievable_level), ("建议等级", res.proposed_level or ""),
                     ("等级说明", res.level_reason)):
            print(f"  {k}：{v}")
    for note in res.notes:
        print(f"  注意：{note}")
    form = res.form_findings
    if form:
        print(render(["位置", "代码", "级别", "字段", "说明"],
                     [[f.where, f.code, f.severity_label, f.label, f.message] for f in form],
                     max_width=70))
    if res.materials:  # the sheet's 材料清单, item by item (RULES.md M, issue 13)
        print(f"材料清单：缺 {len(res.materials)} 项（未选“{res.banner_words['provided']}”）")
        print(render(["位置", "代码", "级别", "材料"],
                     [[f.where, f.code, f.severity_label, f.label] for f in res.materials],
                     max_width=70))
    print(res.status)
    return 1 if res.errors else 0


def cmd_check_dossier(args, choice):
    from xl_addin.read.dossier import check_dossier, summary_lines  # lazy: 7 ms (see the top)
    res = check_dossier(args.file, choice.campaign)
    if getattr(args, "json", False):
        print(json.dumps({**res.as_json(), "campaign_year": choice.campaign.year},
                         ensure_ascii=False, indent=2))
    else:
        print(choice.line())
        print("\n".join(summary_lines(res)))
    return 1 if res.errors else 0


def _configure_check(sp):
    sp.add_argument("file", help="填好的申请书或初审推荐意见表（.xlsx），或申报材料文件夹")
    sp.add_argument("--json", action="store_true",
                    help="以 JSON 输出结论（kind、status、errors、warnings、selfeval_total、achievable_level、"
                         "proposed_level、materials）")
    sp.add_argument("--registry", default=None,
                    help="评价档案（往年结果，用于 E06、E33），默认工作簿旁的 评价档案.sqlite（如有）")


def cmd_pdf(args):
    from xl_addin.forms.pdf import to_pdf  # lazy: openpyxl, LibreOffice helpers (see the top)
    print(f"已生成 PDF：{to_pdf(args.file, args.output)}")
    return 0


def _configure_pdf(sp):
    sp.add_argument("file", help="填好的工作簿（.xlsx），尤其是初审推荐意见表（附件3）")
    sp.add_argument("-o", "--output", help="PDF 文件，默认与工作簿同名")


COMMANDS["templates"] = (cmd_templates, "生成申请书与初审推荐意见表（附件3）模板（自动评分与检查）",
                         _configure_templates)
COMMANDS["check"] = (cmd_check, "检查一份填好的申请书或推荐表：列出问题，有错误时退出码为 1",
                     _configure_check)
COMMANDS["pdf"] = (cmd_pdf, "把填好的工作簿（尤其是附件3）转为 A4 PDF，用于打印盖章", _configure_pdf)


# -- issue 13: the recommender's side (thin: all work is in xl_addin.forms.prefill)
def cmd_recommender(args):
    from xl_addin.forms.prefill import prefill, summary_lines  # lazy: openpyxl (see the top)
    if args.rec_cmd != "prefill":
        print("请指定 prefill（从申请书预填附件3）。", file=sys.stderr)
        return 2
    years = year.folder_years(args.folder, kinds=("application",)) \
        if Path(args.folder).is_dir() else None
    c = _choose(args, Path(args.folder), years,
                f"saq recommender prefill {_arg(args.folder)} --campaign {{year}}").campaign
    res = prefill(args.folder, args.output, c, args.recommender)
    print("\n".join(summary_lines(res)))
    return 0


def _configure_recommender(sp):
    sub = sp.add_subparsers(dest="rec_cmd", metavar="步骤")
    p = sub.add_parser("prefill", help="从收到的申请书预填初审推荐意见表（附件3）",
                       description="从收到的申请书预填初审推荐意见表（附件3）")
    p.add_argument("folder", help="推荐单位收到的申请书所在文件夹（含子文件夹）")
    p.add_argument("-o", "--output", default="附件3_初审推荐意见表.xlsx",
                   help="附件3 文件，默认 附件3_初审推荐意见表.xlsx")
    p.add_argument("--recommender", default=None, help="推荐单位名称，默认取申请书中填写最多的推荐单位")
    p.add_argument("--campaign", default=argparse.SUPPRESS,
                   help=CAMPAIGN_HELP)


COMMANDS["recommender"] = (cmd_recommender, "推荐单位：prefill 从申请书预填附件3",
                           _configure_recommender)


# -- issue 4: consolidation and demo (thin: all work is in xl_addin.consolidate / demo)
def cmd_consolidate(args):
    # lazy: openpyxl, the process pool (see the top)
    from xl_addin.consolidate import consolidate, summary_lines
    from xl_addin.consolidate.run import master_path, rejection_lines
    folder = Path(args.folder)
    years = year.folder_years(folder, skip=(master_path(args.output),)) if folder.is_dir() else None
    out = "" if args.output == "汇总表.xlsx" else f" -o {_arg(args.output)}"
    again = f"saq consolidate {_arg(args.folder)}{out} --campaign {{year}}"
    choice = _choose(args, folder, years, again)
    print(choice.line())
    res = consolidate(args.folder, args.output, choice.campaign,
                      progress=False if args.quiet else None, workers=args.workers,
                      registry=args.registry, feedback=args.feedback)
    print("\n".join(summary_lines(res)))
    alarm = rejection_lines(res, again)  # issue 20 §7: a run that rejects most files fails
    if alarm:
        print("\n".join(alarm))
        return 1
    return 1 if args.strict and res.errors else 0


def _configure_consolidate(sp):
    sp.add_argument("folder", help="存放推荐表和申请书的文件夹（含子文件夹）")
    sp.add_argument("-o", "--output", default="汇总表.xlsx",
                    help="汇总表文件，默认 汇总表.xlsx；给出文件夹时写入其中的 汇总表.xlsx")
    sp.add_argument("-q", "--quiet", action="store_true", help="不显示进度条")
    sp.add_argument("--strict", action="store_true", help="有错误时以退出码 1 结束")
    sp.add_argument("-j", "--workers", type=_int, default=None,
                    help="同时读取文件的进程数（默认按处理器核数，最多 4；Windows 上不并行；1 = 不并行）")
    sp.add_argument("--registry", default=None,
                    help="评价档案（往年结果，用于 E06、复评和“上年结果”列），默认汇总表旁的 评价档案.sqlite")
    sp.add_argument("--feedback", default=None,
                    help="同时给每个推荐单位写补正通知（.docx）和补正清单（.xlsx）：问题、位置、"
                         "补正截止日期和联系人，写入此文件夹")


def cmd_demo(args):
    # lazy: openpyxl, the demo's writers (see the top)
    from xl_addin.consolidate import summary_lines
    from xl_addin.demo import run_demo
    c = _campaign(args, args.folder)
    demo, res = run_demo(args.folder, c.year if args.seed is None else args.seed,
                         progress=False if args.quiet else None, campaign=c)
    print(f"示例活动已生成：{files.terminal_text(demo.folder)}（{len(demo.recommenders)} 个推荐单位、"
          f"{sum(1 for a in demo.apps if a.write_workbook)} 份申请书（各有申报材料文件夹）、"
          f"{len(demo.broken)} 个问题文件）")
    print(f"活动年度：{c.year}（已写入 {files.terminal_text(Path(args.folder) / year.SETTING_FILE)}，"
          "在该文件夹中运行的 saq 命令都按此年度）")
    print("\n".join(summary_lines(res)))
    print("请用 Excel 打开上面的汇总表；示例文件在同一文件夹的“收件”中。")
    return 0


def _configure_demo(sp):
    sp.add_argument("folder", nargs="?", default="saq_demo", help="示例活动的文件夹，默认 saq_demo")
    sp.add_argument("--seed", type=int, default=None, help="随机种子（相同种子生成相同文件），默认为活动年度")
    sp.add_argument("-q", "--quiet", action="store_true", help="不显示进度条")


COMMANDS["consolidate"] = (cmd_consolidate, "汇总：把文件夹中的推荐表和申请书汇总为一个汇总表", _configure_consolidate)
COMMANDS["demo"] = (cmd_demo, "生成一个示例活动（推荐表、申请书和问题文件）并汇总", _configure_demo)


# -- issue 20 §7: the year follows the data; a folder says its year in 活动.toml
def cmd_init(args):
    c = year.load_year(args.year)  # refuses a year this program has no campaign file for
    folder = Path(args.folder)
    if folder.exists() and not folder.is_dir():
        raise SaqError(f"{files.terminal_text(folder)} 不是文件夹")
    setting = folder / year.SETTING_FILE
    before = None
    if setting.is_file():
        try:
            before = year.read_setting(setting)
        except SaqError:
            before = "（无法读取）"
    own = Path(c.path).resolve().parent == CAMPAIGN_DIR.resolve()
    path = year.write_setting(folder, c.year if own else c.path)
    print(f"已写入 {files.terminal_text(path)}：在 {files.terminal_text(folder.resolve())} "
          f"及其子文件夹中运行的 saq 命令按 {c.year} 年活动（命令行的 --campaign 仍可临时改用其他年度）")
    if before is not None and str(before) != str(c.year if own else c.path):
        print(f"  原设置为：{files.terminal_text(before)}")
    others = {y: v for y, v in year.folder_years(folder).items() if y != c.year} \
        if folder.is_dir() else {}
    if others:
        n = sum(len(v) for v in others.values())
        which = "、".join(f"{y} 年 {len(v)} 个" for y, v in sorted(others.items()))
        print(f"  注意：文件夹中有 {n} 个文件是其他年度活动的模板（{which}），"
              f"按 {c.year} 年处理时它们将被拒收")
    return 0


def _configure_init(sp):
    sp.add_argument("year", metavar="年度", help="活动年度（如 2024），或活动配置文件")
    sp.add_argument("folder", nargs="?", default=".",
                    help="活动文件夹（放收件、汇总表、专家评审的文件夹），默认当前文件夹")


COMMANDS["init"] = (cmd_init, "设定文件夹的活动年度（写入文件夹中的活动年度设置），此后在其中运行的命令都按该年度",
                    _configure_init)


# -- issue 6: the Excel add-in (thin: all work is in xl_addin.excel.addin)
def cmd_addin(args):
    # lazy: xlwings (see the top)
    from xl_addin.excel.addin import install as addin_install
    from xl_addin.excel.addin import xlam
    if args.action == "build":
        res = xlam.build(args.output)
        print(f"已生成 Excel 加载项：{res.path}（{res.size // 1024} KB，VBA 模块："
              f"{'、'.join(res.modules)}）")
        print("安装：把它复制到 Windows 电脑，运行“saq addin install”（步骤见 docs/addin.md）。")
        return 0
    name, conf = addin_install.install(args.output)
    print(f"已安装 {name}，配置文件：{conf}。请重新启动 Excel，功能区会出现“用户满意评价”选项卡。")
    return 0


def _configure_addin(sp):
    sp.add_argument("action", choices=["build", "install"],
                    help="build：生成 dist/SAQ.xlam；install：在 Windows 的 Excel 中安装")
    sp.add_argument("-o", "--output", default=None,
                    help="build：加载项文件，默认 dist/SAQ.xlam；install：要安装的加载项文件")


COMMANDS["addin"] = (cmd_addin, "Excel 加载项：生成 SAQ.xlam（build）或在 Windows 上安装（install）",
                     _configure_addin)


# -- issue 5: expert review (thin: all work is in xl_addin.review.workflow)
def cmd_review(args):
    # lazy: openpyxl (see the top)
    from xl_addin.review import workflow
    from xl_addin.review.manifest import FILE_NAME
    from xl_addin.review.manifest import TEMPLATE_ID as ASSIGNMENT
    if args.review_cmd == "assign":
        where = Path(args.master)
        years = year.file_years(where, kinds=("master",))
        again = f"saq review assign {_arg(args.master)} --experts {_arg(args.experts)} --campaign {{year}}"
    elif args.review_cmd in ("collect", "simulate", "add"):
        where = Path(args.folder)
        years = year.file_years(where / FILE_NAME, kinds=(ASSIGNMENT,))
        again = f"saq review {args.review_cmd} {_arg(args.folder)} --campaign {{year}}"
    elif args.review_cmd == "experts-template":  # reads nothing: the folder's or default year
        from xl_addin.review.experts import write_template  # lazy: openpyxl (see the top)
        c = _campaign(args, Path(args.output).parent)
        print(f"已生成专家名单模板：{write_template(args.output, c)}"
              "（每行一位专家：姓名、单位、回避单位、专业；专业空白表示可评审所有类别）")
        return 0
    else:
        print("请指定 assign（分配专家）、collect（收集评分）、add（增派专家）或 experts-template"
              "（专家名单模板）。", file=sys.stderr)
        return 2
    choice = _choose(args, where, years, again)
    print(choice.line())
    c = choice.campaign
    if args.review_cmd == "assign":
        run = workflow.run_assign(args.master, args.experts, args.output, c, args.per_application)
        print("\n".join(workflow.assign_summary(run)))
        return 1 if run.template or (args.strict and run.shortfalls) else 0
    if args.review_cmd == "collect":
        res, path = workflow.run_collect(args.folder, args.output, c, args.publication_start)
        print("\n".join(workflow.collect_summary(res, path)))
        return 0
    if args.review_cmd == "simulate":
        from xl_addin.review.simulate import simulate_folder  # lazy: openpyxl (see the top)
        n = simulate_folder(args.folder, c, args.seed)
        print(f"已为 {n} 位专家模拟填写评分表（仅用于演示和演练）：{args.folder}")
        return 0
    if args.review_cmd == "add":
        run = workflow.run_add(args.folder, c, args.experts, again=args.again)
        print("\n".join(workflow.add_summary(run)))
        return 1 if (args.strict and run.shortfalls) else 0
    print("请指定 assign（分配专家）、collect（收集评分）、add（增派专家）或 experts-template"
          "（专家名单模板）。", file=sys.stderr)
    return 2


def _configure_review(sp):
    sub = sp.add_subparsers(dest="review_cmd", metavar="步骤")
    a = sub.add_parser("assign", help="分配评审专家并生成每位专家的评分表",
                       description="分配评审专家并生成每位专家的评分表")
    a.add_argument("master", help="汇总表（saq consolidate 生成的 .xlsx）")
    a.add_argument("--experts", required=True,
                   help="专家名单（.xlsx；文件不存在时生成空白模板，格式见 saq review experts-template）")
    a.add_argument("--per-application", type=_int, default=None,
                   help="每份申请的专家人数，默认取活动配置（3）")
    a.add_argument("-o", "--output", default="专家评审", help="输出文件夹，默认 专家评审")
    a.add_argument("--strict", action="store_true", help="有申请分配不足时以退出码 1 结束")
    col = sub.add_parser("collect", help="收集专家交回的评分表，生成评审结果与各类名单",
                         description="收集专家交回的评分表，生成评审结果与各类名单")
    col.add_argument("folder", help="分配时的输出文件夹（专家交回的评分表放回其中）")
    col.add_argument("-o", "--output", default="评审结果.xlsx", help="结果文件，默认 评审结果.xlsx")
    col.add_argument("--publication-start", default=None, type=_date("公示开始日期"),
                     help="公示开始日期（如 2023-09-18、2023.9.18 或 2023年9月18日），"
                          "默认取本年度活动的安排（9 月内）")
    sim = sub.add_parser("simulate", help="演示用：模拟专家填写评分表",
                         description="演示用：按固定随机种子模拟每位专家填写评分表（覆盖原文件）")
    sim.add_argument("folder", help="分配时的输出文件夹")
    sim.add_argument("--seed", type=int, default=0, help="随机种子")
    ad = sub.add_parser("add", help="为有效评分不足的申请增派专家（已有评分表不变）",
                        description="为有效评分不足（专家回避、未交回评分表、评分未完成或填写无效）"
                                    "的申请增派专家，为增派的专家另行生成评分表；已有评分表与已填评分"
                                    "不变；尚欠评分的专家不会被增派")
    ad.add_argument("folder", help="分配时的输出文件夹（含分配表.xlsx 与交回的评分表）")
    ad.add_argument("--experts", default=None,
                    help="专家名单（.xlsx）：可加入新专家，默认只用分配表中的专家")
    ad.add_argument("--again", action="store_true",
                    help="已增派的专家也未交回评分表时再次增派（默认等待其交回）")
    ad.add_argument("--strict", action="store_true", help="仍有申请缺专家时以退出码 1 结束")
    et = sub.add_parser("experts-template", help="生成空白的专家名单（姓名、单位、回避单位、专业）",
                        description="生成空白的专家名单（姓名、单位、回避单位、专业），填写后用于 "
                                    "saq review assign --experts")
    et.add_argument("-o", "--output", default="专家名单.xlsx", help="专家名单文件，默认 专家名单.xlsx")
    for x in (a, col, sim, ad, et):
        x.add_argument("--campaign", default=argparse.SUPPRESS, help=CAMPAIGN_HELP)


COMMANDS["review"] = (cmd_review, "专家评审：assign 分配专家与评分表，collect 收集评分并生成名单，"
                                  "add 增派专家，experts-template 专家名单模板",
                      _configure_review)


# -- issue 14: history, registry and the stages after expert review (thin: xl_addin.review.history,
# xl_addin.registry, xl_addin.review.stages)
DATE_FORMS = "2023-09-18、2023.9.18 或 2023年9月18日"


def _date(what):
    """argparse ``type=`` of a date option, read as the sheets read a typed date
    (rules.parse.date: 2023-09-18, 2023.9.18, 2023/9/18, 2023年9月18日, 20230918).

    Args:
        what: the option in the message, e.g. 公示开始日期.
    Returns:
        text -> datetime.date; a malformed date raises SaqError (not ValueError, which
        argparse would turn into its own usage message), so it is one Chinese line, exit 2.
    """
    def parse(text):
        try:
            d = rules_parse.date(text)
        except rules_parse.Unreadable:
            d = None
        if d is None:
            raise SaqError(f"{what}“{text}”不是日期，应写作 {DATE_FORMS}")
        return d
    parse.__name__ = "日期"
    return parse


def cmd_history(args):
    from xl_addin.review import history  # lazy: openpyxl (see the top)
    reg = args.registry or registry.FILE_NAME
    if args.history_cmd == "verify":  # issue 19: the audit's hash chain
        lines, code = history.verify(reg, getattr(args, "by", None))
        print("\n".join(lines))
        return code
    if args.history_cmd == "audit":
        path, n = history.export_audit(reg, args.output, args.year)
        print(f"已导出审计记录 {n} 条：{path}")
        return 0
    res = history.import_history(args.file, args.year, reg, _campaign(args, args.file), args.by,
                                 replace=args.replace)
    print("\n".join(history.summary_lines(res)))
    return 0


def _configure_history(sp):
    sub = sp.add_subparsers(dest="history_cmd", metavar="操作", required=True)
    i = sub.add_parser("import", help="把往年的发布名单导入评价档案（按统一社会信用代码查询往年结果）",
                       description="把往年的发布名单导入评价档案（按统一社会信用代码查询往年结果）")
    i.add_argument("file", help="发布名单（saq stage publish 生成的 .xlsx，或含统一社会信用代码、"
                                "企业名称、申请类别、申报项目名称、等级列的 .xlsx/.csv）")
    i.add_argument("--year", type=int, required=True, help="名单所属年度，如 2022")
    i.add_argument("--registry", default=None, help="评价档案文件，默认当前文件夹的 评价档案.sqlite")
    i.add_argument("--by", default=None, help="操作人（默认为系统登录名）")
    i.add_argument("--replace", action="store_true",
                   help="档案中已有该年度结果时，以本名单为准（新增、变更、撤销，逐项记入审计记录）")
    i.add_argument("--campaign", default=argparse.SUPPRESS,
                   help=CAMPAIGN_HELP)
    v = sub.add_parser("verify", help="检查审计记录的哈希链：报告第一处被改动或删除的记录",
                       description="检查审计记录的哈希链：报告第一处被改动或删除的记录（退出码 0 完整，1 有断开）")
    v.add_argument("--registry", default=None, help="评价档案文件，默认当前文件夹的 评价档案.sqlite")
    a = sub.add_parser("audit", help="把全部审计记录导出为 .xlsx（评定工作簿只列最近的记录）",
                       description="把全部审计记录导出为 .xlsx（评定工作簿只列最近的记录）")
    a.add_argument("--registry", default=None, help="评价档案文件，默认当前文件夹的 评价档案.sqlite")
    a.add_argument("--year", type=int, default=None, help="只导出该年度的记录")
    a.add_argument("-o", "--output", default="审计记录.xlsx", help="输出文件，默认 审计记录.xlsx")
    for x in (v, a):
        x.add_argument("--campaign", default=argparse.SUPPRESS, help=CAMPAIGN_HELP)


def cmd_stage(args):
    from xl_addin.review import stages  # lazy: openpyxl, python-docx (see the top)
    if args.stage_cmd == "start":
        # lazy: openpyxl (see the top)
        from xl_addin.review.manifest import FILE_NAME
        from xl_addin.review.manifest import TEMPLATE_ID as ASSIGNMENT
        where = Path(args.folder)
        years = year.file_years(where / FILE_NAME, kinds=(ASSIGNMENT,))
    elif args.stage_cmd == "example":
        where, years = Path(args.folder), None
    else:
        where = Path(args.workbook)
        years = year.file_years(where, kinds=(stages.TEMPLATE_ID,))
    # a year this program has no campaign for is left to the stage's own refusal (its words)
    years = {y: v for y, v in (years or {}).items() if y in year.available_years()}
    c = _choose(args, where, years, f"saq stage {args.stage_cmd} … --campaign {{year}}").campaign
    pdf = not getattr(args, "no_pdf", False)
    if args.stage_cmd == "example":
        from xl_addin.review.stage_demo import write_inputs  # lazy: openpyxl (see the top)
        for path in write_inputs(args.folder, c):
            print(f"已生成：{path}")
        return 0
    if args.stage_cmd in ("start", "update"):
        run = stages.update(args.workbook, c, getattr(args, "folder", None), args.registry,
                            args.by, create=args.stage_cmd == "start", refresh=args.refresh)
    elif args.stage_cmd == "reopen":
        run = stages.reopen(args.workbook, c, args.reason, args.registry, args.by)
    elif args.stage_cmd == "publicize":
        run = stages.publicize(args.workbook, c, args.start,
                               args.output, args.registry, args.by, pdf)
    else:
        run = stages.publish(args.workbook, c, args.output, args.registry, args.by, pdf,
                             args.date)
    print("\n".join(stages.summary_lines(run)))
    return 0


def _configure_stage(sp):
    sub = sp.add_subparsers(dest="stage_cmd", metavar="阶段", required=True)
    st = sub.add_parser("start", help="专家评审之后：生成评定工作簿（合议、现场评审、审定、公示、审计记录）",
                        description="专家评审之后：生成评定工作簿（合议、现场评审、审定、公示、审计记录）")
    st.add_argument("folder", help="专家评审文件夹（saq review assign 的输出，专家交回的评分表已放回）")
    st.add_argument("-o", "--workbook", default="评定.xlsx", help="评定工作簿，默认 评定.xlsx")
    up = sub.add_parser("update", help="记录评定工作簿中的改动（审计记录）并刷新各工作表",
                        description="记录评定工作簿中的改动（审计记录）并刷新各工作表")
    pz = sub.add_parser("publicize", help="确定公示期，生成公示名单（.docx、.pdf、.xlsx）",
                        description="确定公示期，生成公示名单（.docx、.pdf、.xlsx）")
    pz.add_argument("--start", default=None, type=_date("公示开始日期"),
                    help=f"公示开始日期（如 {DATE_FORMS}），默认取已定的日期或本年度活动的安排；"
                         "公示天数按通知（规则 C5）")
    pb = sub.add_parser("publish", help="发布最终名单（.docx、.pdf、.xlsx），结果记入评价档案",
                        description="发布最终名单（.docx、.pdf、.xlsx），结果记入评价档案")
    ro = sub.add_parser("reopen", help="发布后重新开放（须说明理由，记入审计记录），之后才能更改结果",
                        description="发布后本年度结果冻结（规则 P5）；重新开放须说明理由，记入审计记录，"
                                    "改动后须重新发布")
    ro.add_argument("--reason", required=True, help="重新开放的理由（记入审计记录）")
    ex = sub.add_parser("example", help="演示用：在示例活动文件夹中生成专家名单和上一年的发布名单",
                        description="演示用：在示例活动文件夹（saq demo 生成）中生成专家名单.xlsx 和上一年的发布名单")
    ex.add_argument("folder", nargs="?", default="saq_demo", help="示例活动文件夹，默认 saq_demo")
    ex.add_argument("--campaign", default=argparse.SUPPRESS,
                    help=CAMPAIGN_HELP)
    for x in (up, pz, pb, ro):
        x.add_argument("workbook", help="评定工作簿（saq stage start 生成）")
    for x in (st, up):
        x.add_argument("--refresh", action="store_true",
                       help="按评价档案重写评定工作簿，放弃其中未记录的改动（旧副本、表格被改坏时）")
    pb.add_argument("--date", default=None, type=_date("发布日期"),
                    help="发布日期（如 2023-09-28、2023.9.28 或 2023年9月28日），默认今天")
    for x in (pz, pb):
        x.add_argument("-o", "--output", default=None, help="名单输出文件夹，默认与评定工作簿相同")
        x.add_argument("--no-pdf", action="store_true", help="不生成 PDF（无 LibreOffice 时）")
    for x in (st, up, pz, pb, ro):
        x.add_argument("--registry", default=None,
                       help="评价档案文件，默认评定工作簿所在文件夹的 评价档案.sqlite")
        x.add_argument("--by", default=None, help="操作人（默认为系统登录名），记入审计记录")
        x.add_argument("--campaign", default=argparse.SUPPRESS,
                       help=CAMPAIGN_HELP)


COMMANDS["history"] = (cmd_history, "评价档案：import 导入往年发布名单，verify 检查审计记录，audit 导出审计记录",
                       _configure_history)
COMMANDS["stage"] = (cmd_stage, "专家评审之后的阶段：start、update（合议、现场评审、审定）、"
                                "publicize（公示）、publish（发布）、reopen（发布后重新开放）",
                     _configure_stage)


def build_parser():
    p = argparse.ArgumentParser(
        prog="saq", description="上海市用户满意等级评价工具（规则、活页表、汇总、专家评审）")
    p.add_argument("--version", action="version", version=f"saq {__version__}",
                   help="显示程序版本并退出")
    sub = p.add_subparsers(dest="command", metavar="命令")

    def add(name, fn, help_text):
        sp = sub.add_parser(name, help=help_text, description=help_text)
        sp.add_argument("--campaign", default=None, help=CAMPAIGN_HELP)
        sp.set_defaults(func=fn)
        return sp

    sp = add("rules", cmd_rules, "显示本年度规则：时间安排、自评表、星级条件、问题代码、决定")
    sp.add_argument("--markdown", nargs="?", const="-", metavar="文件",
                    help="以 Markdown 输出（给出文件名时写入该文件，如 docs/rules.md）")
    sp = add("eval", cmd_eval, "评估申请汇总表（CSV 或 xlsx，表头为字段名称），添加自评分、等级与问题")
    sp.add_argument("table", help="申请表格文件（.xlsx 或 .csv）")
    sp.add_argument("-o", "--output", help="结果文件，默认为“原文件名_评估结果.xlsx”")
    sp.add_argument("--strict", action="store_true", help="有错误时以退出码 1 结束")
    for name, (fn, help_text, configure) in COMMANDS.items():
        configure(add(name, fn, help_text))
    _chinese_metavars(p)
    return p


# Placeholders shown in usage lines, by argument name (English names stay in the code).
_METAVARS = {"campaign": "年度或配置文件", "output": "输出", "workers": "进程数",
             "folder": "文件夹", "file": "文件", "table": "表格", "master": "汇总表",
             "experts": "专家名单", "per_application": "人数", "publication_start": "日期",
             "seed": "种子", "year": "年度", "registry": "评价档案", "by": "姓名",
             "start": "日期", "date": "日期", "workbook": "评定工作簿", "feedback": "文件夹",
             "recommender": "推荐单位", "reason": "理由"}


def _chinese_metavars(parser):
    """Usage lines in Chinese for every command, including ones added later."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in set(action.choices.values()):
                _chinese_metavars(sub)
        elif action.metavar is None and action.choices is None and action.dest in _METAVARS:
            action.metavar = _METAVARS[action.dest]


# -- issue 12: the CLI speaks Chinese only (argparse's own messages, help headings)
_ARGPARSE_ZH = {
    "usage: ": "用法：",
    "positional arguments": "位置参数",
    "options": "选项",
    "optional arguments": "选项",
    "show this help message and exit": "显示本帮助并退出",
    "show program's version number and exit": "显示程序版本并退出",
    "subcommands": "子命令",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "the following arguments are required: %s": "缺少必需的参数：%s",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选择“%(value)s”（可选：%(choices)s）",
    "invalid %(type)s value: %(value)r": "“%(value)s”不是有效的%(type)s",
    "expected one argument": "需要一个参数值",
    "expected at most one argument": "最多只能有一个参数值",
    "expected at least one argument": "至少需要一个参数值",
    "expected %s argument": "需要 %s 个参数值",
    "expected %s arguments": "需要 %s 个参数值",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 有歧义，可能是：%(matches)s",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "one of the arguments %s is required": "需要以下参数之一：%s",
    "ignored explicit argument %r": "多余的参数值 %r",
    "unexpected option string: %s": "意外的选项：%s",
    "can't open '%(filename)s': %(error)s": "无法打开“%(filename)s”：%(error)s",
}


@contextlib.contextmanager
def chinese_argparse():
    """argparse's messages in Chinese while the CLI runs (argparse looks its words up with
    gettext at call time; swapping its lookup keeps every other user of argparse as it was)."""
    old = argparse._, argparse.ngettext
    argparse._ = lambda s: _ARGPARSE_ZH.get(s, s)
    argparse.ngettext = lambda one, many, n: _ARGPARSE_ZH.get(one if n == 1 else many,
                                                               one if n == 1 else many)
    try:
        yield
    finally:
        argparse._, argparse.ngettext = old


def _int(text):
    return int(text)


_int.__name__ = "整数"  # argparse names the type in "不是有效的整数"


def _quiet_stdout():
    """Point stdout at the null device: the reader went away (`saq rules | head`), and the
    interpreter's last flush must not complain about it."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (tests): nothing will be flushed to a closed pipe


EXIT_BROKEN_PIPE = 141  # as a shell reports a command ended by SIGPIPE


# Characters that move the cursor, recolour or rewrite the terminal (CR, ESC, the other
# C0/C1 controls, DEL) or reorder text (bidi overrides): shown as escapes, never sent raw
# (issue 19 §10: a carriage return in a name could overwrite the verdict line).
_TERMINAL_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_text(text):
    """``text`` with every control character but newline and tab shown as an escape."""
    if not _TERMINAL_CONTROL.search(text):
        return text
    # \x1B for C0 (as the workbooks show them); \u0085 from DEL up, which JSON reads back
    return _TERMINAL_CONTROL.sub(lambda m: (f"\\x{ord(m.group()):02X}" if m.group() < "\x20"
                                            else f"\\u{ord(m.group()):04X}"), text)


class _SafeStream:
    """A text stream whose writes are :func:`terminal_text`-ed (stdout of the CLI)."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        return self._stream.write(terminal_text(text))

    def __getattr__(self, name):
        return getattr(self._stream, name)


@contextlib.contextmanager
def _safe_stdout():
    old = sys.stdout
    sys.stdout = _SafeStream(old)
    try:
        yield
    finally:
        sys.stdout = old


def main(argv=None):
    """The `saq` command. Returns the exit code; never a traceback (issue 12 §9)."""
    try:
        with chinese_argparse(), _safe_stdout():
            code = _main(argv)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as e:  # the output itself failed: a full disk, a file-size limit
        if e.errno == errno.EPIPE:
            _quiet_stdout()
            return EXIT_BROKEN_PIPE
        _quiet_stdout()
        try:
            print(f"错误：无法输出结果（{os_reason(e)}）", file=sys.stderr)
        except OSError:
            pass
        return 2


def _main(argv):
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SaqError as e:  # an option's value, e.g. a malformed date (_date)
        print(f"错误：{e}", file=sys.stderr)
        return e.exit_code
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except SaqError as e:
        for line in getattr(e, "details", ()):  # e.g. a stale copy's conflicts (issue 19)
            print(line)
        print(f"错误：{terminal_text(str(e))}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return 130
    except (BrokenPipeError, MemoryError):
        raise
    except OSError as e:  # a full disk or a file-size limit while writing a result
        if e.errno == errno.EPIPE:
            raise
        if e.filename:
            print(f"错误：{os_reason(e)}：{e.filename}", file=sys.stderr)
        else:  # the terminal output itself (stdout on a full disk or over a size limit)
            _quiet_stdout()
            print(f"错误：无法输出结果（{os_reason(e)}）", file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 - a bug: one message for the user, details in a log
        err = as_os_error(e)
        if err is not None:  # a writer's own name for a full disk or a size limit
            print(f"错误：无法写入（{os_reason(err)}）", file=sys.stderr)
            return 2
        log = Path(tempfile.gettempdir()) / "saq-error.log"
        import traceback  # lazy: only when a bug is logged; ~2 ms off every start
        log.write_text(traceback.format_exc(), encoding="utf-8")
        print(f"错误：程序内部错误（{type(e).__name__}: {e}）。详细信息已写入 {log}，"
              "请发给技术人员。", file=sys.stderr)
        return 3
