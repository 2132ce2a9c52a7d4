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


def answer_check(expected: dict[bytes, bytes], volatile: bytes) -> bytes:
    """Lua that checks every answer wrk gets: `expected` maps the echoed key (the bytes between
    <QualificationConfirmSearchInfo> tags) to the whole answer with the `volatile` element's text
    removed (the processing time); done() prints "answers: N checked, M wrong"."""
    rows = b",\n".join(b"[ [==[" + k + b"]==] ] = [==[" + v + b"]==]" for k, v in expected.items())
    tag = volatile.decode("ascii")
    return (
        b"local expected = { "
        + rows
        + b" }\n"
        + f"""
checked, wrong = 0, 0
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function response(status, headers, body)
  checked = checked + 1
  local key = body:match("<QualificationConfirmSearchInfo>(.-)</QualificationConfirmSearchInfo>")
  local plain = body:gsub("<{tag}>[0-9]*</{tag}>", "<{tag}></{tag}>")
  if status ~= 200 or key == nil or expected[key] ~= plain then wrong = wrong + 1 end
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
