"""What a test does when a real component it needs is missing: skips on a developer's machine,
fails under CI, so that CI cannot pass by skipping the tests that would have used it."""

import pytest

from tests.helpers import unavailable


@pytest.mark.parametrize("value", ["true", "1", "yes"])
def test_under_ci_a_missing_component_fails_the_test(monkeypatch, value):
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception, match="no libvirtd here .CI=true: the suite needs this"):
        unavailable("no libvirtd here")


@pytest.mark.parametrize("value", [None, "", "false", "0"])
def test_elsewhere_it_skips_and_says_why(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.skip.Exception, match="^no libvirtd here$"):
        unavailable("no libvirtd here")
