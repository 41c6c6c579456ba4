"""Typed errors cross process boundaries intact (consolidation reads in worker processes):
the user gets the same Chinese message, never BrokenProcessPool."""

import pickle
from concurrent.futures import ProcessPoolExecutor

import pytest

from xl_addin.errors import CampaignError, InputFileError, NotOurWorkbook, OutputFileError, SaqError

ERRORS = [
    CampaignError("2023.toml", "flags.E15", "缺少 min"),
    CampaignError("2023.toml", None, "无法读取"),
    InputFileError("a.xlsx", "不是 xlsx"),
    OutputFileError("out.xlsx", "没有权限"),
    NotOurWorkbook("b.xlsx", "缺少 _meta"),
    SaqError("直接的说明"),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_an_error_pickles_with_its_class_message_and_fields(error):
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error)
    assert str(back) == str(error)
    assert back.__dict__ == error.__dict__


def _raise_campaign_error():
    raise CampaignError("2099.toml", "campaign.year", "年份不对")


def test_an_error_raised_in_a_worker_reaches_the_caller_as_itself():
    with ProcessPoolExecutor(max_workers=1) as pool:
        with pytest.raises(CampaignError) as info:
            pool.submit(_raise_campaign_error).result()
    assert str(info.value) == "活动配置文件 2099.toml 的 campaign.year：年份不对"
    assert info.value.key == "campaign.year"
