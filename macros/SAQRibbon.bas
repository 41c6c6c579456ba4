Attribute VB_Name = "SAQRibbon"
' Ribbon callbacks of SAQ.xlam (customUI.xml onAction -> Sub -> xl_addin/excel/ribbon.py).
' Each Sub only starts Python: all logic and every message a user reads are in Python.
' Keep this file ASCII: the VBA project's code page is 1252.
Option Explicit

Sub NewApplication(control As IRibbonControl)
    EnsureWorkbook
    RunPython "import xl_addin.excel.ribbon; xl_addin.excel.ribbon.new_application()"
End Sub

Sub NewRecommender(control As IRibbonControl)
    EnsureWorkbook
    RunPython "import xl_addin.excel.ribbon; xl_addin.excel.ribbon.new_recommender()"
End Sub

Sub CheckWorkbook(control As IRibbonControl)
    EnsureWorkbook
    RunPython "import xl_addin.excel.ribbon; xl_addin.excel.ribbon.check_workbook()"
End Sub

Sub ExportPdf(control As IRibbonControl)
    EnsureWorkbook
    RunPython "import xl_addin.excel.ribbon; xl_addin.excel.ribbon.export_pdf()"
End Sub

Sub ConsolidateFolder(control As IRibbonControl)
    EnsureWorkbook
    RunPython "import xl_addin.excel.ribbon; xl_addin.excel.ribbon.consolidate_folder()"
End Sub

Sub FeedbackLetters(control As IRibbonControl)
    EnsureWorkbook
    RunPython "import xl_addin.excel.ribbon; xl_addin.excel.ribbon.feedback_letters()"
End Sub

Sub MakeExpertSheets(control As IRibbonControl)
    EnsureWorkbook
    RunPython "import xl_addin.excel.ribbon; xl_addin.excel.ribbon.make_expert_sheets()"
End Sub

Sub CollectExpertScores(control As IRibbonControl)
    EnsureWorkbook
    RunPython "import xl_addin.excel.ribbon; xl_addin.excel.ribbon.collect_expert_scores()"
End Sub

Sub ShowRules(control As IRibbonControl)
    EnsureWorkbook
    RunPython "import xl_addin.excel.ribbon; xl_addin.excel.ribbon.show_rules()"
End Sub

Sub ShowHelp(control As IRibbonControl)
    EnsureWorkbook
    RunPython "import xl_addin.excel.ribbon; xl_addin.excel.ribbon.show_help()"
End Sub

Private Sub EnsureWorkbook()
    ' RunPython reads ActiveWorkbook: with no workbook open it would stop in VBA.
    If ActiveWorkbook Is Nothing Then Workbooks.Add
End Sub
