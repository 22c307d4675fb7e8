import pytest

from lib.prose import fill_placeholders


def test_placeholders_are_filled_from_the_code():
    assert fill_placeholders("{{n}} digits, $x^{2}$", {"n": "1,797"}) == "1,797 digits, $x^{2}$"


def test_a_placeholder_without_a_value_is_an_error():
    with pytest.raises(KeyError, match="units"):
        fill_placeholders("{{units}} hidden units", {})
