"""The Excel add-in SAQ.xlam: MS-OVBA compression (ovba), compound files (cfb), the VBA
project (vbaproject), the UDF wrapper (udfwrap), the .xlam (xlam) and its installation
(install). Nothing here needs Excel: the add-in is built on any platform.
"""
