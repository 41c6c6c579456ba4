"""How numbers are shown to people: as Excel's General format shows them.

Its own module so that the pure rules (checks, stars) format without importing the campaign
loader.
"""


def fmt_number(x):
    """A number as Excel's General format shows it: 85, 83.5, 69.9."""
    if x is None:
        return ""
    if isinstance(x, bool):
        return "TRUE" if x else "FALSE"
    if isinstance(x, int):
        return str(x)
    if float(x).is_integer():
        return str(int(x))
    return f"{float(x):.15g}"
