"""Drives `mockgateway card …` end to end, each step its own process, in a private mount + network
namespace (run by tests/card/test_pcsc_service.py under `unshare --mount --net`): a gateway
(`mockgateway serve`), the card CLI, OpenSC's tools and a short pyscard script as a vendor's
program would be. Prints one JSON object: every step's exit code and output.

Usage (as root, in a fresh namespace): python pcsc_cli_driver.py WORKDIR
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

TOKEN = "pcsc-cli-token"
PYSCARD_SCRIPT = r"""
import json
from smartcard.Exceptions import NoCardException
from smartcard.System import readers
from smartcard.util import toHexString

found = readers()
out = {"readers": [str(r) for r in found]}
plain = next(r for r in found if str(r).endswith(" 00 01"))
connection = plain.createConnection()
try:
    connection.connect()
except NoCardException:
    out["card"] = False
else:
    out["card"] = True
    out["atr"] = toHexString(connection.getATR())
    select = [0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01]
    _, sw1, sw2 = connection.transmit(select)
    out["select_jpki"] = f"{sw1:02X}{sw2:02X}"
    connection.disconnect()
print(json.dumps(out))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env, check=False)
    return {"code": done.returncode, "out": done.stdout, "err": done.stderr}


def main(workdir: Path) -> dict[str, Any]:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    Path("/run/pcscd").mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run/pcscd"], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "MOCKGATEWAY_ADMIN"))}
    root, port = workdir / "oqs", _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (workdir / "serve.log").open("w")
    serve = [sys.executable, "-m", "mockgateway", "serve", "--root", str(root), "--http-port", str(port),
             "--tls-port", "0", "--no-folder", f"--admin-token={TOKEN}"]  # fmt: skip
    gateway = subprocess.Popen(serve, stdout=log, stderr=subprocess.STDOUT, env=env)
    steps: dict[str, Any] = {"root": str(root)}
    try:
        for _ in range(600):
            try:
                with urllib.request.urlopen(url + "/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.05)

        def card(name: str, *args: str) -> None:
            argv = [sys.executable, "-m", "mockgateway", "card", *args, f"--url={url}", f"--token={TOKEN}"]
            steps[name] = _run(argv, env)

        card("insert_before_start", "insert", "hoken-taro")
        card("start", "reader", "start")
        pid_file = root / "card-reader" / "pcscd.pid"
        steps["pid_file"] = pid_file.read_text().strip() if pid_file.exists() else None
        steps["socket_link"] = os.readlink(root / "card-reader" / "pcscd.comm")
        card("insert", "insert", "hoken-taro", "--slot", "plain")
        card("insert_face", "insert", "kouki-ume", "--slot", "face")
        card("insert_again", "insert", "hoken-taro", "--slot", "plain")
        card("status", "reader", "status", "--json")
        request = urllib.request.Request(url + "/admin/cards?id=hoken-taro", headers={"X-Admin-Token": TOKEN})
        with urllib.request.urlopen(request, timeout=30) as answer:
            steps["issued"] = json.loads(answer.read())
        steps["opensc_readers"] = _run(["opensc-tool", "--list-readers"], env)
        steps["pkcs15_certificates"] = _run(["pkcs15-tool", "--reader", "1", "--list-certificates"], env)
        steps["pyscard"] = _run([sys.executable, "-c", PYSCARD_SCRIPT], env)
        card("remove", "remove", "--slot", "plain")
        steps["pyscard_after_remove"] = _run([sys.executable, "-c", PYSCARD_SCRIPT], env)
        card("stop", "reader", "stop")
        pid = int(steps["pid_file"]) if steps["pid_file"] else None
        steps["pcscd_alive_after_stop"] = pid is not None and Path(f"/proc/{pid}").exists()
        steps["pid_file_after_stop"] = pid_file.exists()
    finally:
        gateway.terminate()
        gateway.wait(30)
        log.close()
    return steps


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
