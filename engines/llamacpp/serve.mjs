// llama.cpp's GBNF engine behind a JSON-lines protocol, for ananke.engines.membership.
//
// Each request is one line of JSON on stdin, answered by one line on stdout:
//   {"op": "load", "grammar": TEXT}       -> {"id": N, "ms": PARSE_MS} or {"error": MESSAGE}
//   {"op": "check", "id": N, "texts": []} -> {"results": [BOOL, ...]}
// llama.cpp parses the grammar with its own parser (src/llama-grammar.cpp) and matches
// each text code point by code point from the root rule; a text is accepted when one
// parse stack is empty at its end (node-llama-cpp's AddonGrammar.isTextCompatible).
// No model is loaded: grammar parsing and matching need none.
import {createInterface} from "node:readline";
import {Worker} from "node:worker_threads";

// A check can run for minutes inside llama.cpp (its matcher keeps a stack per open
// alternative), and then neither a closed stdin nor a signal is seen until it returns. A
// worker thread watches the parent: once the process that started this one is gone, it
// ends this one, so a killed caller leaves nothing running.
new Worker(
    `const {workerData: w} = require("node:worker_threads");
     setInterval(() => { if (process.ppid !== w.parent) process.kill(w.self, "SIGKILL"); }, 500);`,
    {eval: true, workerData: {parent: process.ppid, self: process.pid}},
).unref();

// argv[2]: the file URL of node-llama-cpp's entry module.
const {getLlama} = await import(process.argv[2]);

const llama = await getLlama({gpu: false, build: "never", progressLogs: false, logLevel: "error"});

const grammars = new Map();
let nextId = 1;

function handle(req) {
    if (req.op === "load") {
        try {
            const start = process.hrtime.bigint();
            const grammar = new llama._bindings.AddonGrammar(req.grammar, {
                addonExports: llama._bindings,
                rootRuleName: "root",
            });
            const ms = Number(process.hrtime.bigint() - start) / 1e6;
            const id = nextId++;
            grammars.set(id, grammar);
            return {id, ms};
        } catch (e) {
            // llama.cpp writes its reason to stderr, where the caller reads it.
            return {error: String(e?.message ?? e)};
        }
    }
    if (req.op === "check") {
        const grammar = grammars.get(req.id);
        return {results: req.texts.map((t) => grammar.isTextCompatible(t))};
    }
    return {error: `unknown op ${req.op}`};
}

process.stdout.write(JSON.stringify({ready: true}) + "\n");
for await (const line of createInterface({input: process.stdin})) {
    let out;
    try {
        out = handle(JSON.parse(line));
    } catch (e) {
        out = {error: String(e?.message ?? e)};
    }
    process.stdout.write(JSON.stringify(out) + "\n");
}
