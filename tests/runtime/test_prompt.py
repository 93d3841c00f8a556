"""Prompts: every constraint reaches the model in words, doc and note as written, and a
repair attempt shows the previous answer with what failed."""

from __future__ import annotations

from ananke.runtime.prompt import ContextFile, Feedback, build_prompt

import ananke

SOURCE = """
constraint handler {
    doc: "Return the user's id from the request.";
    note: "Raise KeyError when the id is missing.";
    name: get_user_id;
    returns: Option<Int>;
    forbid: ["eval", "exec"];
    max_lines: 12;
    @soft require: ["logging"];
    validates: input_schema;
}
"""


def _set():  # type: ignore[no-untyped-def]
    module = ananke.compile(SOURCE)
    lowered = ananke.lower(module, "vllm")[0]
    return module.sets[0], lowered.enforcements


def test_every_constraint_is_in_the_system_prompt() -> None:
    cset, enforcements = _set()
    p = build_prompt("get the id", cset, enforcements)
    assert "What it does: Return the user's id from the request." in p.system
    assert "- Raise KeyError when the id is missing." in p.system
    assert "`get_user_id`" in p.system
    assert "`Optional[int]`" in p.system  # the type as Python writes it
    assert "`eval`, `exec`" in p.system
    assert "at most 12 lines" in p.system
    assert "`logging`" in p.system and "preferred, not required" in p.system
    assert "`input_schema`" in p.system
    # Post-level constraints say they are checked.
    line = next(x for x in p.system.splitlines() if "12 lines" in x)
    assert "Checked after generation." in line
    assert p.user == "get the id"
    assert p.text.startswith(p.system) and "Task: get the id" in p.text


def test_context_and_feedback() -> None:
    cset, enforcements = _set()
    p = build_prompt(
        "get the id",
        cset,
        enforcements,
        context=[ContextFile("models.py", "class User: ...\n")],
        feedback=[
            Feedback("def a(): pass\n", ("first",)),
            Feedback("def get_user_id(r):\n    return eval(r)\n", ("handler.forbid.eval: no",)),
        ],
    )
    assert "Context: models.py\n```\nclass User: ...\n```" in p.user
    # The last attempt is shown, with what failed.
    assert "return eval(r)" in p.user and "- handler.forbid.eval: no" in p.user
    assert "def a(): pass" not in p.user
    assert p.user.index("Context") < p.user.index("previous answer")
