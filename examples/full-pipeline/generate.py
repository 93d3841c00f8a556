"""Library mode end to end: compile the seed example and generate against a vLLM server.

python examples/full-pipeline/generate.py URL
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from ananke import Ananke

HERE = Path(__file__).resolve().parent


async def main(url: str) -> int:
    async with Ananke(config=False, backend="vllm", url=url, max_tokens=256) as ananke:
        compiled = await ananke.compile(HERE.parent / "api_handler.ariadne")
        result = await ananke.generate("return the user's id", constraints=compiled)
    print(json.dumps(result.to_json(), indent=2))
    return 0 if result.ok else 1


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python examples/full-pipeline/generate.py URL", file=sys.stderr)
        sys.exit(2)
    sys.exit(asyncio.run(main(sys.argv[1])))
