"""ConstraintIR: what generated code must respect, independent of any grammar engine.

Policy (see ``spec/ir.md``): every node is a frozen msgspec struct that forbids unknown
fields and omits defaults; unions are tagged (``kind`` for constraints, ``type`` for the
other families); sequences are tuples. Schema evolution follows msgspec's rules: new fields
get defaults and go last, tags and field types never change. Bump :data:`IR_VERSION` only
for a change that older readers cannot decode.
"""

from __future__ import annotations

import hashlib
import re
from typing import Literal, TypeVar

import msgspec

from .grammar import Grammar
from .source import Span

__all__ = [
    "CODE_PROPERTIES",
    "IR_VERSION",
    "LIMIT_CAPS",
    "MAX_PRIORITY",
    "MAX_TYPE_DEPTH",
    "PROPERTY_NAMES",
    "Conflict",
    "Constraint",
    "ConstraintSet",
    "Doc",
    "Example",
    "ExtractedProvenance",
    "Forbid",
    "FunctionName",
    "ImportPolicy",
    "LLMProvenance",
    "Language",
    "Limit",
    "LimitMetric",
    "Matches",
    "Module",
    "Naming",
    "NamingScope",
    "NamingStyle",
    "Node",
    "OutputGrammar",
    "Param",
    "Params",
    "Provenance",
    "Require",
    "Resolution",
    "Returns",
    "Schema",
    "SchemaField",
    "Signature",
    "SourceProvenance",
    "Strength",
    "TypeExpr",
    "Validates",
    "property_of",
]

IR_VERSION = 1
"""Version of the serialized ConstraintIR; readers reject a newer one."""

LIMIT_CAPS: dict[str, int] = {"lines": 100_000, "chars": 10_000_000, "tokens": 1_000_000}
"""Largest accepted value per limit metric; anything above is surely a mistake."""
MAX_PRIORITY = 1_000_000
"""Largest ``priority`` magnitude accepted."""
MAX_TYPE_DEPTH = 32
"""Deepest nesting of type arguments (Ariadne values nest at most 32 levels)."""
PROPERTY_NAMES: tuple[str, ...] = (
    "language",
    "name",
    "params",
    "signature",
    "returns",
    "forbid",
    "require",
    "max_lines",
    "max_chars",
    "max_tokens",
    "naming",
    "imports",
    "matches",
    "validates",
    "doc",
    "note",
    "grammar",
)
"""Every Ariadne property, as written in source and as :func:`property_of` names it."""
CODE_PROPERTIES = frozenset(
    {
        "name",
        "params",
        "signature",
        "forbid",
        "require",
        "max_lines",
        "naming",
        "imports",
        "validates",
    }
)
"""Properties that constrain generated code, meaningless for JSON or a grammar's strings."""

Strength = Literal["hard", "soft"]
Language = Literal["python", "json"]
LimitMetric = Literal["lines", "chars", "tokens"]
NamingStyle = Literal["snake", "camel", "pascal", "screaming"]
NamingScope = Literal["signature", "all"]

_T = TypeVar("_T")

_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[^\s.][^\s]*)*$")


class Node(
    msgspec.Struct,
    frozen=True,
    forbid_unknown_fields=True,
    omit_defaults=True,
    kw_only=True,
    gc=False,
):
    """Base of every IR node: sets the serialization policy once.

    ``gc=False``: IR nodes are immutable trees (a frozen struct cannot come to refer to
    itself), so Python's cycle collector need not track them. With 100,000 constraints it
    made the composition passes about 30 % faster and their growth linear again
    (``benchmarks/compose.py``).
    """


# --- provenance -------------------------------------------------------------------------


class SourceProvenance(Node, tag_field="type", tag="source", kw_only=True, frozen=True):
    """Written by a person in an ``.ariadne`` file."""

    span: Span
    library: bool = False
    """Written in an imported file (a shared library of constraints, ``std``) rather than in
    the file being compiled; resolution ranks the team's own file above libraries."""


class ExtractedProvenance(Node, tag_field="type", tag="extracted", kw_only=True, frozen=True):
    """Inferred by an extractor from code, tests or telemetry."""

    extractor: str
    file: str
    line: int
    evidence: str = ""
    confidence: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError("confidence is between 0 and 1")


class LLMProvenance(Node, tag_field="type", tag="llm", kw_only=True, frozen=True):
    """Proposed by a language model; never trusted above a person's constraint."""

    model: str
    prompt_hash: str


Provenance = SourceProvenance | ExtractedProvenance | LLMProvenance


# --- types ------------------------------------------------------------------------------


class TypeExpr(Node, kw_only=True, frozen=True):
    """A language-neutral type: a dotted name with generic arguments (``Result<T, E>``).

    Rendered per target language by ``ananke.languages``.
    """

    name: str
    args: tuple[TypeExpr, ...] = ()

    def __str__(self) -> str:
        if not self.args:
            return self.name
        return f"{self.name}<{', '.join(str(a) for a in self.args)}>"


class Param(Node, kw_only=True, frozen=True):
    """One parameter: a name, an optional type and whether it must have a default."""

    name: str
    type: TypeExpr | None = None
    default: str | None = None
    """Source text of the default value, as the target language writes it; None: no default."""
    kind: Literal["positional", "var_positional", "keyword_only", "var_keyword"] = "positional"


class SchemaField(Node, kw_only=True, frozen=True):
    name: str
    type: TypeExpr
    optional: bool = False
    span: Span | None = None


class Schema(Node, kw_only=True, frozen=True):
    """``schema NAME { field: Type; ... }``: a shape that ``validates:`` can name."""

    name: str
    fields: tuple[SchemaField, ...]
    span: Span | None = None


# --- constraints ------------------------------------------------------------------------


class _ConstraintBase(Node, frozen=True):
    id: str
    """Stable id: ``<set>.<property>[.<item>]``, e.g. ``api_handler.forbid.eval``."""
    provenance: Provenance
    strength: Strength = "hard"
    priority: int = 0
    override: bool = False
    """Written with ``override``: replaces what a parent set says for the same property."""

    def __post_init__(self) -> None:
        if not _ID_RE.match(self.id):
            raise ValueError(f"invalid constraint id {self.id!r}")


class Returns(_ConstraintBase, tag_field="kind", tag="returns", kw_only=True, frozen=True):
    """The function's return type."""

    type: TypeExpr


class FunctionName(_ConstraintBase, tag_field="kind", tag="name", kw_only=True, frozen=True):
    """The function's name."""

    name: str


class Params(_ConstraintBase, tag_field="kind", tag="params", kw_only=True, frozen=True):
    """The function's parameters, in order (``self`` included when written)."""

    params: tuple[Param, ...]


class Signature(_ConstraintBase, tag_field="kind", tag="signature", kw_only=True, frozen=True):
    """Name, parameters and return type together, as one property."""

    name: str
    params: tuple[Param, ...]
    returns: TypeExpr | None = None
    is_async: bool = False


class Forbid(_ConstraintBase, tag_field="kind", tag="forbid", kw_only=True, frozen=True):
    """A name the code must never use (see ``spec/ariadne.md`` for the exact semantics).

    A plain name forbids the bare identifier; a dotted name forbids that qualified
    reference and importing it.
    """

    name: str


class Require(_ConstraintBase, tag_field="kind", tag="require", kw_only=True, frozen=True):
    """A name the code must use at least once as a bare identifier or qualified reference."""

    name: str


class Limit(_ConstraintBase, tag_field="kind", tag="limit", kw_only=True, frozen=True):
    """An upper bound on the size of the output."""

    metric: LimitMetric
    max: int

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.max < 1:
            raise ValueError("a limit is at least 1")


class Naming(_ConstraintBase, tag_field="kind", tag="naming", kw_only=True, frozen=True):
    """Names the code defines follow a style or a regex: the function's name and its
    parameters (``scope`` ``signature``), or also local variables and nested functions
    (``all``)."""

    style: NamingStyle | None = None
    pattern: str | None = None
    scope: NamingScope = "signature"

    def __post_init__(self) -> None:
        super().__post_init__()
        if (self.style is None) == (self.pattern is None):
            raise ValueError("naming has exactly one of style and pattern")


class ImportPolicy(_ConstraintBase, tag_field="kind", tag="imports", kw_only=True, frozen=True):
    """Modules the code may import (``allow``; None: any) and must not import (``deny``)."""

    allow: tuple[str, ...] | None = None
    deny: tuple[str, ...] = ()


class Matches(_ConstraintBase, tag_field="kind", tag="matches", kw_only=True, frozen=True):
    """The whole output must match this regular expression (Python ``re`` syntax)."""

    pattern: str


class Validates(_ConstraintBase, tag_field="kind", tag="validates", kw_only=True, frozen=True):
    """The function must validate its input against ``target`` before using it.

    ``schema`` is set when ``target`` names a schema declared in the module.
    """

    target: str
    schema: str | None = None


class OutputGrammar(_ConstraintBase, tag_field="kind", tag="grammar", kw_only=True, frozen=True):
    """The output must be a string of this grammar (``grammar:``): a grammar written in
    Lark, GBNF or XGrammar EBNF, imported into the GrammarIR when the file was compiled, so
    that a ``.cir`` file holds it whole."""

    dialect: Literal["lark", "gbnf", "ebnf"]
    grammar: Grammar
    file: str | None = None
    """The grammar file as written in the ``.ariadne`` source; None when embedded."""


class Doc(_ConstraintBase, tag_field="kind", tag="doc", kw_only=True, frozen=True):
    """Advisory text for the prompt (``doc`` or ``note``)."""

    text: str
    role: Literal["doc", "note"] = "doc"


Constraint = (
    Returns
    | FunctionName
    | Params
    | Signature
    | Forbid
    | Require
    | Limit
    | Naming
    | ImportPolicy
    | Matches
    | Validates
    | OutputGrammar
    | Doc
)


class Resolution(Node, kw_only=True, frozen=True):
    """A decision of the composition passes: ``kept`` stands, ``dropped`` are gone.

    ``rule`` says why: ``override`` (a child's ``override``, or a child's ``name``,
    ``params`` or ``returns`` refining an inherited signature, which drops nothing),
    ``intersect`` (limits of one metric: the smallest stands), ``duplicate`` (the same
    constraint twice), ``strength`` (hard beats soft), ``priority`` (the higher wins),
    ``provenance`` (the team's own file above a library, above extracted, above
    LLM-proposed constraints).
    """

    rule: Literal["override", "intersect", "duplicate", "strength", "priority", "provenance"]
    kept: str
    """Id of the constraint that stands."""
    kept_provenance: Provenance
    dropped: tuple[str, ...]
    dropped_provenance: tuple[Provenance, ...]
    summary: str
    """What was decided, in words (``max_lines: 80 over 100``)."""


def property_of(c: Constraint) -> str:
    """The Ariadne property a constraint comes from (``max_lines``, ``forbid``, ...): what
    ``override`` replaces, and how ``arc explain`` names it."""
    match c:
        case Limit():
            return f"max_{c.metric}"
        case Doc():
            return c.role
        case OutputGrammar():
            return "grammar"
        case FunctionName():
            return "name"
        case ImportPolicy():
            return "imports"
        case _:
            return c.__struct_config__.tag  # type: ignore[return-value]


class Conflict(Node, kw_only=True, frozen=True):
    """Constraints that cannot all hold, found by ``detect-conflicts``.

    ``ids`` is a smallest contradictory set: dropping any one of them removes the
    contradiction (one id: the constraint contradicts the output language alone).
    ``roles`` says, per id, what part it plays ("forbidden here").
    """

    kind: str
    """What contradicts: ``forbid-require``, ``forbid-name``, ``forbid-signature``,
    ``import-require``, ``name``, ``returns``, ``params``, ``signature``,
    ``limit-language``, ``limit-signature``, ``naming``, ``naming-name``, ``matches``,
    ``matches-signature``."""
    ids: tuple[str, ...]
    roles: tuple[str, ...]
    message: str
    help: str = ""


class Example(Node, kw_only=True, frozen=True):
    """An output a set must accept, or reject, written with the set
    (``example accept TEXT;``). ``arc test`` checks it against every engine's grammar and
    the post checks.

    ``by`` names what must reject it: a property (``forbid``), one item of a list property
    (``forbid.eval``), or ``syntax`` (the language itself, no constraint). ``at`` is where
    the text's first character is (in the ``.ariadne`` file, or line 1 column 1 of the file
    ``example ... file "x.py"`` names); ``indent`` columns were removed from every line of a
    text block. ``mapped`` is false when positions in the text do not map one to one onto
    ``at``'s file (a string with escapes).
    """

    accept: bool
    text: str
    by: str | None = None
    span: Span
    """The whole ``example ...;`` statement."""
    at: Span
    indent: int = 0
    mapped: bool = True

    def where(self, line: int, column: int) -> tuple[int, int]:
        """(line, column) in ``at``'s file of the 1-based ``line``/``column`` of the text
        (``at`` itself when the text is not ``mapped``)."""
        if not self.mapped:
            return self.at.line, self.at.column
        if line == 1:
            return self.at.line, self.at.column + column - 1
        return self.at.line + line - 1, self.indent + column


class ConstraintSet(Node, kw_only=True, frozen=True):
    """One ``constraint NAME { ... }`` block: what one generated function must respect."""

    name: str
    language: Language = "python"
    constraints: tuple[Constraint, ...] = ()
    span: Span | None = None
    extends: tuple[str, ...] = ()
    """Parent sets, by their names in the module (``std.python.safe``), in written order."""
    extends_spans: tuple[Span, ...] = ()
    """Where each parent is named, parallel to ``extends``."""
    library: bool = False
    """Defined in an imported file: kept for ``extends``, not emitted on its own."""
    resolutions: tuple[Resolution, ...] = ()
    """What the composition passes decided, in order."""
    conflicts: tuple[Conflict, ...] = ()
    """Contradictions ``detect-conflicts`` found and ``resolve-conflicts`` has not settled."""
    examples: tuple[Example, ...] = ()
    """Outputs written with the set that it must accept or reject (not inherited)."""

    def of_kind(self, kind: type[_T]) -> tuple[_T, ...]:
        return tuple(c for c in self.constraints if isinstance(c, kind))

    def get(self, constraint_id: str) -> Constraint | None:
        for c in self.constraints:
            if c.id == constraint_id:
                return c
        return None


class Module(Node, kw_only=True, omit_defaults=False, frozen=True):
    """A compiled set of ``.ariadne`` sources: the unit written to a ``.cir`` file."""

    version: int = IR_VERSION
    sources: tuple[str, ...] = ()
    sets: tuple[ConstraintSet, ...] = ()
    schemas: tuple[Schema, ...] = ()

    def content_hash(self) -> str:
        """SHA-256 of the canonical MessagePack encoding (for caches)."""
        return hashlib.sha256(msgspec.msgpack.encode(self)).hexdigest()

    def get_set(self, name: str) -> ConstraintSet | None:
        for s in self.sets:
            if s.name == name:
                return s
        return None

    @property
    def own_sets(self) -> tuple[ConstraintSet, ...]:
        """The sets of the compiled file itself, without those its imports brought."""
        return tuple(s for s in self.sets if not s.library)
