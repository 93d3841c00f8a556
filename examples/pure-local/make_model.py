"""Make the small model this example generates with: random weights, a tokenizer trained
on the standard library, and a few seconds of training on three intents of
`../api_handler.ariadne` with the prompts `arc generate` sends for them, so that it writes
those functions back. It knows nothing else: ask it anything and it writes what the grammar
allows, usually until --max-tokens.

    python examples/pure-local/make_model.py ./tiny
"""

from __future__ import annotations

import sys
from pathlib import Path

from ananke.runtime.models import make_model
from ananke.runtime.prompt import build_prompt

import ananke

HERE = Path(__file__).resolve().parent
INTENTS = {
    "get_user.py": "return the user's id",
    "list_orders.py": "list the user's orders",
    "delete_session.py": "delete the session",
}


def training_texts() -> list[str]:
    """Each intent's prompt, as `arc generate --backend local` builds it, and its code."""
    module = ananke.load(HERE.parent / "api_handler.ariadne")
    (lowered,) = ananke.lower(module, "llguidance")
    cset = module.sets[0]
    return [
        build_prompt(intent, cset, lowered.enforcements).text + (HERE / "corpus" / f).read_text()
        for f, intent in INTENTS.items()
    ]


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: python examples/pure-local/make_model.py OUT_DIR", file=sys.stderr)
        return 2
    print(make_model(Path(sys.argv[1]), train=training_texts(), steps=150))
    return 0


if __name__ == "__main__":
    sys.exit(main())
