"""Consolidation of submitted workbooks into one master workbook (issue 4)."""

from xl_addin.consolidate.run import consolidate, summary_lines

__all__ = ["consolidate", "summary_lines"]
