"""The `saq` command: a thin wrapper over the library.

Each command parses its arguments, calls one library function and prints the result.
Library errors (SaqError) become one Chinese message on stderr and their exit code; a user
never sees a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import sys
from pathlib import Path

from xl_addin import __version__
from xl_addin.errors import SaqError


def _campaign(args):
    from xl_addin.rules.campaign import load
    return load(args.campaign)  # None: the current campaign (campaign.current_year)


def cmd_rules(args):
    from xl_addin.rules.text import describe, markdown
    c = _campaign(args)
    if args.markdown is None:
        print(describe(c))
    elif args.markdown == "-":
        print(markdown(c), end="")
    else:  # issue 10: docs/rules.md is generated from the campaign plus prose
        from pathlib import Path as _P

        from xl_addin.tables import write_atomic
        text = markdown(c)
        p = write_atomic(args.markdown, lambda tmp: _P(tmp).write_text(text, encoding="utf-8"))
        print(f"规则说明已写入 {p}")
    return 0


def cmd_eval(args):
    from xl_addin.read.evaltable import evaluate_table
    from xl_addin.rules.textable import render
    res = evaluate_table(args.table, args.output, _campaign(args))
    if res.unknown_headers:
        print("未识别的表头（原样保留，不参与检查）：" + "、".join(res.unknown_headers))
    print(render(["行", "企业名称", "自评分", "自评结论", "可评等级", "建议等级", "问题代码"],
                 res.summary, max_width=30))
    print(f"\n共 {res.rows} 行：{res.errors} 行有错误，{res.warnings} 行仅有提醒，"
          f"{res.ok} 行无问题。")
    print(f"结果已写入 {res.path}")
    return 1 if res.errors and args.strict else 0


COMMANDS = {}
CAMPAIGN_HELP = ("活动年度（如 2024）或活动配置文件路径；默认为当前活动"
                 "（xl_addin/campaigns/current.toml，或环境变量 SAQ_CAMPAIGN）")


# -- issue 3: live workbooks (thin: all work is in xl_addin.forms / check / pdf)
def cmd_templates(args):
    from xl_addin.forms.templates import write_templates
    for kind, path in write_templates(args.output, _campaign(args)).items():
        print(f"已生成{'申请书' if kind == 'application' else '初审推荐意见表（附件3）'}模板：{path}")
    return 0


def _configure_templates(sp):
    sp.add_argument("-o", "--output", default="workbooks", help="输出文件夹，默认 workbooks")


def cmd_check(args):
    if Path(args.file).is_dir():  # issue 13: a whole 申报材料文件夹 (RULES.md M)
        return cmd_check_dossier(args)
    import json

    from xl_addin.read.check import check_file
    from xl_addin.read.verdict import KINDS
    from xl_addin.rules.textable import render
    res = check_file(args.file, _campaign(args), args.registry)
    if args.json:
        print(json.dumps(res.as_json(), ensure_ascii=False, indent=2))
        return 1 if res.errors else 0
    print(f"{args.file}：{KINDS[res.kind]}" + (f"，{res.rows} 行推荐" if res.kind == "recommender" else ""))
    from xl_addin.rules.show import fmt_number
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


def cmd_check_dossier(args):
    import json

    from xl_addin.read.dossier import check_dossier, summary_lines
    res = check_dossier(args.file, _campaign(args))
    if getattr(args, "json", False):
        print(json.dumps(res.as_json(), ensure_ascii=False, indent=2))
    else:
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
    from xl_addin.forms.pdf import to_pdf
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
    from xl_addin.forms.prefill import prefill, summary_lines
    if args.rec_cmd != "prefill":
        print("请指定 prefill（从申请书预填附件3）。", file=sys.stderr)
        return 2
    res = prefill(args.folder, args.output, _campaign(args), args.recommender)
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
    from xl_addin.consolidate import consolidate, summary_lines
    res = consolidate(args.folder, args.output, _campaign(args),
                      progress=False if args.quiet else None, workers=args.workers,
                      registry=args.registry)
    print("\n".join(summary_lines(res)))
    return 1 if args.strict and res.errors else 0


def _configure_consolidate(sp):
    sp.add_argument("folder", help="存放推荐表和申请书的文件夹（含子文件夹）")
    sp.add_argument("-o", "--output", default="汇总表.xlsx",
                    help="汇总表文件，默认 汇总表.xlsx；给出文件夹时写入其中的 汇总表.xlsx")
    sp.add_argument("-q", "--quiet", action="store_true", help="不显示进度条")
    sp.add_argument("--strict", action="store_true", help="有错误时以退出码 1 结束")
    sp.add_argument("-j", "--workers", type=_int, default=None,
                    help="同时读取文件的进程数（默认按 CPU 核数，最多 4；Windows 上不并行；1 = 不并行）")
    sp.add_argument("--registry", default=None,
                    help="评价档案（往年结果，用于 E06、复评和“上年结果”列），默认汇总表旁的 评价档案.sqlite")


def cmd_demo(args):
    from xl_addin.consolidate import summary_lines
    from xl_addin.demo import run_demo
    c = _campaign(args)
    demo, res = run_demo(args.folder, c.year if args.seed is None else args.seed,
                         progress=False if args.quiet else None, campaign=c)
    print(f"示例活动已生成：{demo.folder}（{len(demo.recommenders)} 个推荐单位、"
          f"{sum(1 for a in demo.apps if a.write_workbook)} 份申请书、{len(demo.broken)} 个问题文件）")
    print("\n".join(summary_lines(res)))
    print("请用 Excel 打开上面的汇总表；示例文件在同一文件夹的“收件”中。")
    return 0


def _configure_demo(sp):
    sp.add_argument("folder", nargs="?", default="saq_demo", help="示例活动的文件夹，默认 saq_demo")
    sp.add_argument("--seed", type=int, default=None, help="随机种子（相同种子生成相同文件），默认为活动年度")
    sp.add_argument("-q", "--quiet", action="store_true", help="不显示进度条")


COMMANDS["consolidate"] = (cmd_consolidate, "汇总：把文件夹中的推荐表和申请书汇总为一个汇总表", _configure_consolidate)
COMMANDS["demo"] = (cmd_demo, "生成一个示例活动（推荐表、申请书和问题文件）并汇总", _configure_demo)


# -- issue 6: the Excel add-in (thin: all work is in xl_addin.excel.addin)
def cmd_addin(args):
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
    from xl_addin.review import workflow
    c = _campaign(args)
    if args.review_cmd == "assign":
        run = workflow.run_assign(args.master, args.experts, args.output, c, args.per_application)
        print("\n".join(workflow.assign_summary(run)))
        return 1 if run.template or (args.strict and run.shortfalls) else 0
    if args.review_cmd == "collect":
        res, path = workflow.run_collect(args.folder, args.output, c, args.publication_start)
        print("\n".join(workflow.collect_summary(res, path)))
        return 0
    if args.review_cmd == "simulate":
        from xl_addin.review.simulate import simulate_folder
        n = simulate_folder(args.folder, c, args.seed)
        print(f"已为 {n} 位专家模拟填写评分表（仅用于演示和演练）：{args.folder}")
        return 0
    if args.review_cmd == "add":
        run = workflow.run_add(args.folder, c, args.experts, again=args.again)
        print("\n".join(workflow.add_summary(run)))
        return 1 if (args.strict and run.shortfalls) else 0
    print("请指定 assign（分配专家）、collect（收集评分）或 add（增派专家）。", file=sys.stderr)
    return 2


def _configure_review(sp):
    sub = sp.add_subparsers(dest="review_cmd", metavar="步骤")
    a = sub.add_parser("assign", help="分配评审专家并生成每位专家的评分表",
                       description="分配评审专家并生成每位专家的评分表")
    a.add_argument("master", help="汇总表（saq consolidate 生成的 .xlsx）")
    a.add_argument("--experts", required=True,
                   help="专家名单 experts.xlsx（文件不存在时生成空白模板）")
    a.add_argument("--per-application", type=_int, default=None,
                   help="每份申请的专家人数，默认取活动配置（3）")
    a.add_argument("-o", "--output", default="专家评审", help="输出文件夹，默认 专家评审")
    a.add_argument("--strict", action="store_true", help="有申请分配不足时以退出码 1 结束")
    col = sub.add_parser("collect", help="收集专家交回的评分表，生成评审结果与各类名单",
                         description="收集专家交回的评分表，生成评审结果与各类名单")
    col.add_argument("folder", help="分配时的输出文件夹（专家交回的评分表放回其中）")
    col.add_argument("-o", "--output", default="评审结果.xlsx", help="结果文件，默认 评审结果.xlsx")
    col.add_argument("--publication-start", default=None, type=_date("公示开始日期"),
                     help="公示开始日期（年-月-日），默认取活动配置 [stages]（9 月内）")
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
                    help="专家名单 experts.xlsx：可加入新专家，默认只用分配表中的专家")
    ad.add_argument("--again", action="store_true",
                    help="已增派的专家也未交回评分表时再次增派（默认等待其交回）")
    ad.add_argument("--strict", action="store_true", help="仍有申请缺专家时以退出码 1 结束")
    for x in (a, col, sim, ad):
        x.add_argument("--campaign", default=argparse.SUPPRESS, help=CAMPAIGN_HELP)


COMMANDS["review"] = (cmd_review, "专家评审：assign 分配专家与评分表，collect 收集评分并生成名单，"
                                  "add 增派专家",
                      _configure_review)


# -- issue 14: history, registry and the stages after expert review (thin: xl_addin.review.history,
# xl_addin.registry, xl_addin.review.stages)
def _date(what):
    """argparse ``type=`` of a date option (2023-09-18).

    Args:
        what: the option in the message, e.g. 公示开始日期.
    Returns:
        text -> datetime.date; a malformed date raises SaqError (not ValueError, which
        argparse would turn into its own usage message), so it is one Chinese line, exit 2.
    """
    import datetime as dt

    def parse(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise SaqError(f"{what}“{text}”应为 2023-09-18 的形式") from None
    parse.__name__ = "日期"
    return parse


def cmd_history(args):
    from xl_addin.registry import FILE_NAME
    from xl_addin.review.history import import_history, summary_lines
    res = import_history(args.file, args.year, args.registry or FILE_NAME, _campaign(args),
                         args.by)
    print("\n".join(summary_lines(res)))
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
    i.add_argument("--campaign", default=argparse.SUPPRESS,
                   help=CAMPAIGN_HELP)


def cmd_stage(args):
    from xl_addin.review import stages
    c = _campaign(args)
    pdf = not getattr(args, "no_pdf", False)
    if args.stage_cmd == "example":
        from xl_addin.review.stage_demo import write_inputs
        for path in write_inputs(args.folder, c):
            print(f"已生成：{path}")
        return 0
    if args.stage_cmd in ("start", "update"):
        run = stages.update(args.workbook, c, getattr(args, "folder", None), args.registry,
                            args.by)
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
                    help="公示开始日期（如 2023-09-18），默认取已定的日期或活动配置；天数见规则 C5")
    pb = sub.add_parser("publish", help="发布最终名单（.docx、.pdf、.xlsx），结果记入评价档案",
                        description="发布最终名单（.docx、.pdf、.xlsx），结果记入评价档案")
    ex = sub.add_parser("example", help="演示用：在示例活动文件夹中生成专家名单和上一年的发布名单",
                        description="演示用：在示例活动文件夹（saq demo 生成）中生成专家名单.xlsx 和上一年的发布名单")
    ex.add_argument("folder", nargs="?", default="saq_demo", help="示例活动文件夹，默认 saq_demo")
    ex.add_argument("--campaign", default=argparse.SUPPRESS,
                    help=CAMPAIGN_HELP)
    for x in (up, pz, pb):
        x.add_argument("workbook", help="评定工作簿（saq stage start 生成）")
    pb.add_argument("--date", default=None, type=_date("发布日期"), help="发布日期（如 2023-09-28），默认今天")
    for x in (pz, pb):
        x.add_argument("-o", "--output", default=None, help="名单输出文件夹，默认与评定工作簿相同")
        x.add_argument("--no-pdf", action="store_true", help="不生成 PDF（无 LibreOffice 时）")
    for x in (st, up, pz, pb):
        x.add_argument("--registry", default=None,
                       help="评价档案文件，默认评定工作簿所在文件夹的 评价档案.sqlite")
        x.add_argument("--by", default=None, help="操作人（默认为系统登录名），记入审计记录")
        x.add_argument("--campaign", default=argparse.SUPPRESS,
                       help=CAMPAIGN_HELP)


COMMANDS["history"] = (cmd_history, "评价档案：import 导入往年发布名单", _configure_history)
COMMANDS["stage"] = (cmd_stage, "专家评审之后的阶段：start、update（合议、现场评审、审定）、"
                                "publicize（公示）、publish（发布）", _configure_stage)


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
             "seed": "种子"}


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


def main(argv=None):
    """The `saq` command. Returns the exit code; never a traceback (issue 12 §9)."""
    try:
        with chinese_argparse():
            code = _main(argv)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as e:  # the output itself failed: a full disk, a file-size limit
        from xl_addin.errors import os_reason
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
        print(f"错误：{e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return 130
    except (BrokenPipeError, MemoryError):
        raise
    except OSError as e:  # a full disk or a file-size limit while writing a result
        from xl_addin.errors import os_reason
        if e.errno == errno.EPIPE:
            raise
        if e.filename:
            print(f"错误：{os_reason(e)}：{e.filename}", file=sys.stderr)
        else:  # the terminal output itself (stdout on a full disk or over a size limit)
            _quiet_stdout()
            print(f"错误：无法输出结果（{os_reason(e)}）", file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 - a bug: one message for the user, details in a log
        from xl_addin.errors import as_os_error, os_reason
        err = as_os_error(e)
        if err is not None:  # a writer's own name for a full disk or a size limit
            print(f"错误：无法写入（{os_reason(err)}）", file=sys.stderr)
            return 2
        import tempfile
        import traceback
        log = Path(tempfile.gettempdir()) / "saq-error.log"
        log.write_text(traceback.format_exc(), encoding="utf-8")
        print(f"错误：程序内部错误（{type(e).__name__}: {e}）。详细信息已写入 {log}，"
              "请发给技术人员。", file=sys.stderr)
        return 3
