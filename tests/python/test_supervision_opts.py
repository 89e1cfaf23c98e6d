"""The library checks the supervision options it is given, whatever the
binding let through: a negative restart limit, idle timeout or watchdog is
an error naming the option, and nothing is started."""

import os

import pytest

from procmgr import InvalidArgument


@pytest.mark.parametrize("option, value, message", [
    ("restart_limit", -1, "restart_limit -1 is negative"),
    ("idle_timeout", -1, "idle_timeout and watchdog are seconds >= 0"),
    ("watchdog", float("nan"), "idle_timeout and watchdog are seconds >= 0"),
])
def test_bad_supervision_options_start_nothing(daemons, option, value,
                                               message):
    pm = daemons("web")
    with pytest.raises(InvalidArgument, match=message):
        pm.ensure(["sleep", "1000"], restart="on-failure", **{option: value})
    assert not pm.is_alive()
    assert not os.path.exists(os.path.join(pm.metadata_dir, "pid"))
