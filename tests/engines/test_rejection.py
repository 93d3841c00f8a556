"""The rejection explainer: the first byte the grammar cannot take, the constraint behind it
(checked against the engine: without it the text gets further), the grammar rule, and a
message that names the offending text and the constraint's span."""

from __future__ import annotations

import pytest
from ananke.ariadne import compile_source
from ananke.engines.acceptance import ByteMatcher
from ananke.engines.rejection import Rejection, _lower, explain_rejection, position_of
from ananke.ir import ConstraintSet, Diagnostics, Lowered, SourceFile
from ananke.ir.compose import compose

from ananke.pipeline import emit, lower_for_target

SOURCE = """\
constraint api {
    name: get_user;
    returns: Result<Response, Error>;
    forbid: ["eval", "exec"];
    naming: snake;
}
constraint free {
    forbid: ["eval"];
}
"""


def _lowered(name: str, source: str = SOURCE) -> tuple[ConstraintSet, Lowered]:
    diags = Diagnostics()
    module = compile_source(SourceFile("api.ariadne", source), diags)
    assert module is not None
    module = compose(module, diags)
    cset = module.get_set(name)
    assert cset is not None
    lowered = lower_for_target(
        module.__class__(sets=(cset,), schemas=module.schemas), "llguidance", diags
    )
    assert lowered is not None and not diags.has_errors, list(diags)
    return cset, lowered[0]


def _explain(name: str, text: str) -> Rejection:
    cset, low = _lowered(name)
    verdict = ByteMatcher(emit(low, "llguidance")).check(text)
    assert not verdict.accepted
    return explain_rejection(text, cset, low, verdict)


HEAD = "def get_user(user_id: int) -> Result[Response, Error]:\n"


def test_forbidden_call_names_the_word_its_place_and_the_rule() -> None:
    r = _explain("api", HEAD + "    data = load(user_id)\n    return eval(data)\n")
    assert r.constraint_ids == ("api.forbid.eval",)
    assert r.rule == "IDOK"
    assert (r.line, r.column) == (3, 16)  # the `(` after eval: eval could still go on
    assert (r.culprit, r.culprit_line, r.culprit_column) == ("eval", 3, 12)
    assert r.message == (
        "`eval` at 3:12 is forbidden by api.forbid.eval (api.ariadne:4:14), "
        "enforced by grammar rule IDOK"
    )


def test_forbidden_name_inside_an_fstring_field_is_the_string_rule() -> None:
    r = _explain("free", "def f(x):\n    return f'{exec(x)} {eval(x)}'\n")
    assert r.constraint_ids == ("free.forbid.eval",)
    assert r.rule == "STR"
    assert r.culprit == "eval"


def test_wrong_return_annotation_is_the_def_line() -> None:
    r = _explain("api", "def get_user(user_id: int) -> dict:\n    return {}\n")
    assert r.constraint_ids == ("api.returns",)
    assert r.rule == "DEFHEAD"
    assert r.line == 1
    assert "the return annotation must be Result[Response, Error]" in r.message
    assert "(api.ariadne:3:5)" in r.message


def test_python_syntax_error_is_the_language() -> None:
    r = _explain("free", "def f(x):\n    return (x\n")
    assert r.by_language and r.constraint_ids == ()
    assert r.message == "not valid Python at 2:12: '(' was never closed"


def test_valid_python_outside_the_grammars_shape_says_so() -> None:
    # Python accepts an indentation step that changes inside one function; the grammar
    # (one unit per function) does not: no constraint is blamed, the limits are shown.
    r = _explain("free", "def f(x):\n  if x:\n        return 1\n")
    assert r.by_language
    assert r.message.startswith("the python grammar takes no byte `r` here at 3:9")
    assert any("indentation" in note for note in r.notes)


def test_text_ending_early() -> None:
    r = _explain("free", "def f(x):\n")
    assert r.by_language
    assert (r.line, r.column) == (2, 1)


@pytest.mark.parametrize(
    "text",
    [
        HEAD + "    return eval(user_id)\n",
        HEAD + "    return exec(user_id)\n",
        "def get_user(user_id: int) -> int:\n    return 1\n",
        "def GetUser(user_id: int) -> Result[Response, Error]:\n    return 1\n",
    ],
)
def test_blamed_constraints_really_let_the_text_further(text: str) -> None:
    # The claim the explainer makes, checked directly: the grammar lowered without the
    # blamed constraints takes the byte the full grammar refuses.
    cset, low = _lowered("api")
    verdict = ByteMatcher(emit(low, "llguidance")).check(text)
    r = explain_rejection(text, cset, low, verdict)
    assert r.constraint_ids
    without = _lower(cset, (), frozenset(r.constraint_ids), None)
    from ananke.backends import get_backend

    further = ByteMatcher(get_backend("llguidance").emit(without)).check(text)
    assert further.accepted or further.offset > verdict.offset


def test_positions_count_code_points_not_bytes() -> None:
    text = "x = 'é€'\nyy"
    assert position_of(text, len("x = 'é€'\n".encode())) == (2, 1)
    assert position_of(text, len("x = 'é".encode())) == (1, 7)


def test_constraints_that_reject_only_together_are_all_named() -> None:
    # The pinned name rejects `GetUser`; without it, `naming: snake` still does: neither
    # alone lets the text past, both together do.
    r = _explain("api", "def GetUser(user_id: int) -> Result[Response, Error]:\n    return 1\n")
    assert r.constraint_ids == ("api.name", "api.naming")
    assert r.rule == "DEFHEAD"
    assert "required by api.name (api.ariadne:2:5) and api.naming (api.ariadne:5:5)" in r.message
