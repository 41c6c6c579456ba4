"""The live workbooks: 申请书 (application.py), 附件3 初审推荐意见表 (recommender.py), and
filling them through their defined names (fill.py)."""
