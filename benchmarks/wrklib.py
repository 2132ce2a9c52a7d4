"""What the HTTP benchmarks share: a free port, the wrk Lua script cycling request bodies, and
reading wrk's report."""

from __future__ import annotations

import re
import socket
from collections.abc import Sequence

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def lua(path: str, bodies: list[str], headers: dict[str, str]) -> str:
    """A wrk script POSTing `bodies` in turn, so a run meets many different people."""
    quoted = ",\n".join("[==[" + b + "]==]" for b in bodies)
    hdrs = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items())
    return f"""
wrk.method = "POST"
wrk.path = "{path}"
{hdrs}
local bodies = {{ {quoted} }}
local i = 0
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
"""


def answer_check(expected: dict[bytes, bytes], volatile: bytes, poison: str = "") -> bytes:
    """Lua that checks every answer wrk gets: `expected` maps the echoed key (the bytes between
    <QualificationConfirmSearchInfo> tags) to the whole answer with the `volatile` element's text
    removed (the processing time); done() prints "answers: N checked, M wrong".

    An answer is right when its status is 200, its key is known, everything before the volatile
    element's text and everything after it equal the expected answer byte for byte, and that text
    is digits. Plain `string.find` and two substring comparisons: Lua patterns over the whole body
    (a `match` for the key and a `gsub` for the volatile text, as this script did first) cost wrk
    ~30 µs an answer and capped it at ~25,000 answers/s on this machine, below what the gateway
    serves (against nginx: 89,000/s with this check, 96,000 with none, 24,000-27,000 with patterns).

    `poison` is for control runs, each of which must count every answer wrong: "head" or "tail"
    changes one byte of that part of every expected answer (the comparison is made), "rotate" gives
    each key the next key's answer (each answer is compared with its own person's)."""
    open_, close = b"<" + volatile + b">", b"</" + volatile + b">"
    heads: list[bytes] = []
    tails: list[bytes] = []
    answers = list(expected.values())
    if poison == "rotate":
        answers = answers[1:] + answers[:1]
    for key, answer in zip(expected, answers, strict=True):
        at = answer.index(open_ + close) + len(open_)
        head, tail = answer[:at], answer[at:]
        if poison == "head":
            head = head[:-1] + b"_"  # the volatile element's start tag, mangled
        elif poison == "tail":
            tail = tail[:-1] + b"_"  # the answer's last byte
        quoted = b"[ [==[" + key + b"]==] ] = "
        heads.append(quoted + b"[==[" + head + b"]==]")
        tails.append(quoted + b"[==[" + tail + b"]==]")
    tag = volatile.decode("ascii")
    tables = b"local head = { " + b",\n".join(heads) + b" }\nlocal tail = { " + b",\n".join(tails) + b" }\n"
    return (
        tables
        + f"""
local find, sub = string.find, string.sub
local OK, CK = "<QualificationConfirmSearchInfo>", "</QualificationConfirmSearchInfo>"
local OT, CT = "<{tag}>", "</{tag}>"
checked, wrong = 0, 0
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function response(status, headers, body)
  checked = checked + 1
  local a = find(body, OK, 1, true)
  local b = a and find(body, CK, a, true)
  local t = find(body, OT, 1, true)
  local u = t and find(body, CT, t, true)
  if status ~= 200 or b == nil or u == nil then wrong = wrong + 1; return end
  local key, v = sub(body, a + #OK, b - 1), t + #OT
  if head[key] ~= sub(body, 1, v - 1) or tail[key] ~= sub(body, u) or find(sub(body, v, u - 1), "^%d*$") == nil then
    wrong = wrong + 1
  end
end
function done(summary, latency, requests)
  local c, w = 0, 0
  for _, t in ipairs(threads) do c = c + t:get("checked"); w = w + t:get("wrong") end
  io.write(string.format("answers: %d checked, %d wrong\\n", c, w))
end
""".encode("ascii")
    )


def parse_wrk(out: str, percentiles: Sequence[int] = (50, 99)) -> dict[str, float]:
    """requests/s, the `percentiles` in ms (from --latency), non-2xx answers, and 1.0 if wrk saw
    socket errors."""
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not found:
        raise SystemExit(f"wrk output not understood:\n{out}")
    wanted = "|".join(str(p) for p in percentiles)
    pct = {
        f"p{k}": float(v) * _UNITS[u] for k, v, u in re.findall(rf"^\s+({wanted})%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    }
    answers = re.search(r"answers: (\d+) checked, (\d+) wrong", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockerr = re.search(r"Socket errors: (.*)", out)
    total = re.search(r"(\d+) requests in", out)
    return {
        "rps": float(found.group(1)),
        "requests": float(total.group(1)) if total else 0.0,
        **pct,
        "non2xx": float(non2xx.group(1)) if non2xx else 0.0,
        "sockerr": float(bool(sockerr)),
        **({"checked": float(answers.group(1)), "wrong": float(answers.group(2))} if answers else {}),
    }
