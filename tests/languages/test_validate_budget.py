"""The post checks never hang: `matches` and `naming` patterns are decided without
backtracking, and a check that would pass its budget (the text's length, a pattern's
steps) ends in a violation marked undecided."""

from __future__ import annotations

import re

from ananke.ir.constraint import (
    Constraint,
    ConstraintSet,
    Doc,
    Forbid,
    Limit,
    Matches,
    Naming,
    SourceProvenance,
)
from ananke.ir.source import Span
from ananke.languages.validate import Budget, check, validate

PROV = SourceProvenance(
    span=Span(file="t.ariadne", start=0, end=1, line=1, column=1, end_line=1, end_column=2)
)


def cset(*cs: Constraint) -> ConstraintSet:
    return ConstraintSet(name="t", constraints=cs)


def text_set(*cs: Constraint) -> ConstraintSet:
    """A set whose output is no Python: only the checks that read any text apply."""
    return ConstraintSet(name="t", language="json", constraints=cs)


def test_matches_on_a_backtracking_input_is_decided() -> None:
    """The issue's case: `re.search("(a+)+$", ...)` takes time doubling with each `a` (22 s
    at 28). Decided here for 10,000 of them, and the answer is `re`'s own on short runs."""
    c = text_set(Matches(id="t.matches", provenance=PROV, pattern="(a+)+$"))
    for n in (3, 12):
        text = "a" * n + "!"
        assert (validate(text, c) == []) == (re.search("(a+)+$", text) is not None)
    (v,) = validate("a" * 10_000 + "!", c)
    assert (v.constraint_id, v.undecided) == ("t.matches", False)
    assert v.message == "the code does not match /(a+)+$/"
    assert validate("def f():\n    return 'aaaa'\n" + "a" * 10_000, c) == []


def test_naming_on_a_backtracking_name_is_decided() -> None:
    c = cset(Naming(id="t.naming", provenance=PROV, pattern="(a+)+b"))
    name = "a" * 10_000
    (v,) = validate(f"def {name}():\n    pass\n", c)
    assert (v.text, v.undecided) == (name, False)
    assert validate(f"def {name}b():\n    pass\n", c) == []


def test_pattern_past_its_steps_is_undecided() -> None:
    c = text_set(Matches(id="t.matches", provenance=PROV, pattern="(a+)+$"))
    (v,) = validate("a" * 10_000 + "!", c, budget=Budget(max_pattern_steps=1_000))
    assert v.undecided and v.kind == "matches"
    assert v.message == "not decided: /(a+)+$/ needs more than 1,000 steps on this text"


def test_naming_steps_are_one_budget_for_all_names() -> None:
    c = cset(Naming(id="t.naming", provenance=PROV, pattern="[a-z_]+"))
    # Each name alone fits in the budget, all of them together do not.
    names = ", ".join(f"p{i}_" + "x" * 40 for i in range(30))
    report = check(f"def f({names}):\n    pass\n", c, budget=Budget(max_pattern_steps=2_000))
    undecided = [v for v in report.violations if v.undecided]
    assert len(undecided) == 1
    assert undecided[0].message.startswith("not decided: /[a-z_]+/ needs more than 2,000 steps")
    assert validate("def f(p_x):\n    pass\n", c, budget=Budget(max_pattern_steps=2_000)) == []


def test_pattern_needing_backtracking_is_undecided() -> None:
    """The checker refuses such patterns in `.ariadne` files (`unsupported-regex`); an IR
    made otherwise still gets an answer, not a hang."""
    c = cset(Matches(id="t.matches", provenance=PROV, pattern=r"(\w+) \1"))
    (v,) = validate("def f():\n    return 'a a'\n", c)
    assert v.undecided
    assert v.message == (
        r"not decided: /(\w+) \1/ cannot be checked in linear time: it uses a backreference, "
        "which needs backtracking"
    )


def test_text_past_the_input_cap() -> None:
    c = cset(
        Forbid(id="t.forbid.eval", provenance=PROV, name="eval"),
        Limit(id="t.max_lines", provenance=PROV, metric="lines", max=3),
        Limit(id="t.max_chars", provenance=PROV, metric="chars", max=10_000),
        Matches(id="t.matches", provenance=PROV, pattern="^def "),
        Doc(id="t.doc", provenance=PROV, text="advice"),
    )
    text = "def f():\n" + "    x = 1\n" * 20 + "    return eval(x)\n"
    budget = Budget(max_input_chars=100)
    got = [(v.constraint_id, v.undecided) for v in validate(text, c, budget=budget)]
    assert got == [
        ("t.syntax", True),
        ("t.forbid.eval", True),
        ("t.max_lines", False),  # measuring is not reading
        ("t.matches", True),
    ]
    (first, *_) = validate(text, c, budget=budget)
    assert first.message == (
        f"not decided: the text has {len(text)} characters, more than the 100 the post checks read"
    )
    decided = validate(text, c, budget=Budget(max_input_chars=len(text)))
    assert [(v.constraint_id, v.undecided) for v in decided] == [
        ("t.forbid.eval", False),
        ("t.max_lines", False),
    ]


def test_tokens_past_the_input_cap() -> None:
    c = cset(Limit(id="t.max_tokens", provenance=PROV, metric="tokens", max=5))
    text = "x" * 200
    calls: list[str] = []

    def count(s: str) -> int:
        calls.append(s)
        return 1

    report = check(text, c, tokenizer=count, budget=Budget(max_input_chars=100))
    assert [(v.constraint_id, v.undecided) for v in report.violations] == [
        ("t.syntax", True),
        ("t.max_tokens", True),
    ]
    assert calls == []
    # Without a tokenizer it is skipped, as for any text.
    report = check(text, c, budget=Budget(max_input_chars=100))
    assert [s.constraint_id for s in report.skipped] == ["t.max_tokens"]


def test_json_set_past_the_cap_has_no_syntax_check() -> None:
    c = ConstraintSet(
        name="t",
        language="json",
        constraints=(Matches(id="t.matches", provenance=PROV, pattern=r"^\[1(,1)*\]$"),),
    )
    text = "[" + ",".join("1" * 100) + "]"
    assert validate(text, c) == []
    got = validate(text, c, budget=Budget(max_input_chars=100))
    assert [(v.constraint_id, v.undecided) for v in got] == [("t.matches", True)]
