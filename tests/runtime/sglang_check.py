"""The request bodies of the `sglang` backend validated by SGLang's own request models.

SGLang imports only with torch, triton and its GPU stack (an environment of about 6 GB),
which the test environment does not install; the suite checks the bodies against the field
lists read from SGLang 0.5.23's source (test_http_generators.py). Where sglang is
installed, run this by hand from the repository root:

    python -m tests.runtime.sglang_check

It sends every body the backend writes (grammar and JSON schema; completions, chat and the
native /generate) to the fault server, and parses what arrived with `CompletionRequest`,
`ChatCompletionRequest` and `SamplingParams(...).verify()`. Last run: SGLang 0.5.23, every
body accepted, no unknown field.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import ananke
from tests.runtime.fault_server import FaultServer
from tests.runtime.test_http_generators import emitted, make, request, run


def main() -> int:
    from sglang.srt.entrypoints.openai import protocol
    from sglang.srt.sampling import sampling_params as sampling

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "record.ariadne"
        source.write_text(
            "schema User { id: int; email: str; }\n"
            "constraint user_record { language: json; returns: User; }\n"
        )
        json_body = json.loads(ananke.emit(ananke.load(source), "sglang"))
    with FaultServer() as server:
        for body in (emitted("sglang"), json_body):
            for chat in (False, True):
                run(make("sglang", server.url, chat=chat), request(body, seed=1, stop=("x",)))
            run(make("sglang", server.url + "/generate"), request(body, seed=1, stop=("x",)))
        for sent in server.posts():
            if sent.path == "/generate":
                params = sampling.SamplingParams(**sent.body["sampling_params"])
                params.verify(4096)
                assert (params.ebnf is None) != (params.json_schema is None)
                assert params.sampling_seed == 1 and params.stop_strs == ["x"]
            else:
                model = (
                    protocol.ChatCompletionRequest
                    if sent.path.endswith("chat/completions")
                    else protocol.CompletionRequest
                )
                parsed = model.model_validate(sent.body)
                unknown = set(sent.body) - set(model.model_fields)
                assert not unknown, unknown
                assert parsed.ebnf is not None or parsed.response_format is not None
                assert parsed.seed == 1 and parsed.stop == ["x"]
        print(f"{len(server.posts())} bodies accepted by SGLang's own models")
    return 0


if __name__ == "__main__":
    sys.exit(main())
