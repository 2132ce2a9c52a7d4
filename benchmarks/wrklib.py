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
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockerr = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(found.group(1)),
        **pct,
        "non2xx": float(non2xx.group(1)) if non2xx else 0.0,
        "sockerr": float(bool(sockerr)),
    }
