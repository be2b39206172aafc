import re
import string

import pytest
from pydantic_core import PydanticCustomError

from mailfmt import RULES, Severity, get_rule
from mailfmt.rules import select_rules


def test_codes_and_names_are_unique_and_well_formed() -> None:
    assert len({r.code for r in RULES}) == len(RULES)
    assert len({r.name for r in RULES}) == len(RULES)
    for r in RULES:
        assert re.fullmatch(r"[HAMES]\d{3}", r.code), r.code
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", r.name), r.name
        assert isinstance(r.severity, Severity)
        assert r.rfc
        assert r.what
        assert r.why
        assert r.example
        assert r.fix


def test_templates_use_only_plain_fields() -> None:
    # pydantic fills {name} only: no conversions or format specs.
    for r in RULES:
        for _, field, spec, conv in string.Formatter().parse(r.template):
            if field is not None:
                assert field.isidentifier() and not spec and not conv, (r.code, field)


def test_error_carries_rule_name_and_code() -> None:
    err = get_rule("H101").error(value="a b", reason="space")
    assert isinstance(err, PydanticCustomError)
    assert err.type == "header-name-invalid"
    assert err.context == {"code": "H101", "value": "a b", "reason": "space"}
    assert "a b" in err.message()


def test_lookup_by_code_or_name() -> None:
    assert get_rule("h101") is get_rule("header-name-invalid")
    with pytest.raises(KeyError):
        get_rule("Z999")


def test_select_by_prefix_like_ruff() -> None:
    codes = {r.code for r in select_rules(["H1", "A"], ignore=["H103"])}
    assert "H101" in codes
    assert "A101" in codes
    assert "H103" not in codes
    assert "H201" not in codes
    assert "M101" not in codes


def test_docs_rule_pages_are_generated_from_the_catalogue() -> None:
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    spec = importlib.util.spec_from_file_location("gen_rules", root / "docs" / "gen_rules.py")
    assert spec
    assert spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    pages = root / "docs" / "rules"
    expected = mod.render()
    assert {p.name for p in pages.glob("*.md")} == set(expected), \
        "docs/rules is stale: run python docs/gen_rules.py"
    for name, text in expected.items():
        assert (pages / name).read_text(encoding="utf-8") == text, \
            f"docs/rules/{name} is stale: run python docs/gen_rules.py"


def test_rule_page_and_cli_say_the_same_thing() -> None:
    from mailfmt.cli import rule_doc

    for r in RULES:
        for part in (r.what, r.why, r.example, r.fix, r.rfc):
            assert part in rule_doc(r)


def test_rule_texts_are_single_line_safe() -> None:
    # Examples show escapes (\\r\\n) as text; a raw CR or LF would break the
    # generated pages and one-line outputs.
    for r in RULES:
        for text in (r.template, r.what, r.why, r.example, r.fix, r.rfc):
            assert "\r" not in text and "\n" not in text, r.code
