"""`saq templates`: write both templates of a campaign."""

from __future__ import annotations

from pathlib import Path

from xl_addin.errors import OutputFileError, os_reason
from xl_addin.forms.application import build_application
from xl_addin.forms.recommender import build_recommender
from xl_addin.sheet.xlcache import save_with_values


def template_names(c):
    """File names of the two templates of campaign ``c``."""
    return {"application": f"申请书_{c.year}.xlsx", "recommender": f"初审推荐意见表_{c.year}.xlsx"}


def write_templates(out_dir, campaign):
    """Write the 申请书 and 附件3 templates of ``campaign`` into ``out_dir``.

    Returns:
        dict kind -> Path
    Raises:
        OutputFileError
    """
    c = campaign
    d = Path(out_dir)
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputFileError(d, os_reason(e)) from None
    names = template_names(c)
    out = {}
    for kind, build in (("application", build_application), ("recommender", build_recommender)):
        p = d / names[kind]
        try:
            save_with_values(build(c), p)
        except OSError as e:
            raise OutputFileError(p, f"{os_reason(e)}（文件是否正在 Excel 中打开？）") from None
        out[kind] = p
    return out
