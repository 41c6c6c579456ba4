"""The `saq` command: a thin wrapper over the library.

Each command parses its arguments, calls one library function and prints the result.
Library errors (SaqError) become one Chinese message on stderr and their exit code; a user
never sees a traceback.
"""

from __future__ import annotations

import argparse
import sys

from . import __version__
from .errors import SaqError


def _campaign(args):
    from .campaign import load
    return load(args.campaign)


def cmd_rules(args):
    from .rules_text import describe
    print(describe(_campaign(args)))
    return 0


def cmd_eval(args):
    from .evaltable import evaluate_table
    from .textable import render
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


def build_parser():
    p = argparse.ArgumentParser(
        prog="saq", description="上海市用户满意等级评价工具（规则、活页表、汇总、专家评审）")
    p.add_argument("--version", action="version", version=f"saq {__version__}")
    sub = p.add_subparsers(dest="command", metavar="命令")

    def add(name, fn, help_text):
        sp = sub.add_parser(name, help=help_text, description=help_text)
        sp.add_argument("--campaign", default="2023",
                        help="活动年度（如 2023）或活动配置文件路径，默认 2023")
        sp.set_defaults(func=fn)
        return sp

    add("rules", cmd_rules, "显示本年度规则：时间安排、自评表、星级条件、问题代码、决定")
    sp = add("eval", cmd_eval, "评估申请汇总表（CSV 或 xlsx，表头为字段名称），添加自评分、等级与问题")
    sp.add_argument("table", help="申请表格文件（.xlsx 或 .csv）")
    sp.add_argument("-o", "--output", help="结果文件，默认为“原文件名_评估结果.xlsx”")
    sp.add_argument("--strict", action="store_true", help="有错误时以退出码 1 结束")
    for name, (fn, help_text, configure) in COMMANDS.items():
        configure(add(name, fn, help_text))
    return p


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
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
