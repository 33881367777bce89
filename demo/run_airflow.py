"""``make airflow``: a running Airflow 3 (``airflow standalone``) with the example DAGs and the sandbox.

Usage: ``python -m demo.run_airflow``. It shares ``.demo/airflow_home`` with ``make demo`` (whose runs show up
in the UI), starts the sandbox as a process, stores the ``tencent_sms_default`` connection pointing at it,
enables connection testing (the UI's Test button is broken in Airflow 3.3.2: it prints the CLI command that
works), and runs until Ctrl-C, then stops everything it started.
Logs: ``.demo/standalone.log`` (Airflow), ``.demo/sandbox.log``, ``.demo/setup.log``.
"""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType

import requests

from .home import (
    AIRFLOW_HOME,
    CONNECTION_ID,
    CONNECTION_VARIABLE,
    DEMO_DIR,
    airflow_environment,
    migrate_database,
)
from .processes import free_port, start, stop

AIRFLOW_PORT = 8080
SANDBOX_PORT = 8081
STARTUP_TIMEOUT = 180.0
HEALTH_KEYS = ("metadatabase", "scheduler", "triggerer", "dag_processor")
#: Where SimpleAuthManager (Airflow's default) keeps the password it generates for ``admin``.
PASSWORDS_FILE = AIRFLOW_HOME / "simple_auth_manager_passwords.json.generated"
SETUP_LOG = DEMO_DIR / "setup.log"
SANDBOX_LOG = DEMO_DIR / "sandbox.log"
AIRFLOW_LOG = DEMO_DIR / "standalone.log"


def connection_test_command(env: Mapping[str, str]) -> str:
    """The shell command that runs the connection's test against this Airflow (what the Test button does)."""
    settings = {
        "AIRFLOW_HOME": env["AIRFLOW_HOME"],
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"],
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
    }
    airflow = str(Path(sys.executable).parent / "airflow")
    return shlex.join(
        ["env", *(f"{k}={v}" for k, v in settings.items()), airflow, "connections", "test", CONNECTION_ID]
    )


def connection_test_note(env: Mapping[str, str]) -> str:
    # The connection list's Test button answers "Bad Request" in Airflow 3.3.2 (docs/connection.md: why).
    return (
        'Test connection:   the UI\'s Test button answers "Bad Request" in Airflow 3.3.2 (an Airflow bug, see\n'
        "                   docs/connection.md); run the same test from a shell instead:\n"
        f"  {connection_test_command(env)}"
    )


class Exited(RuntimeError):
    """A process we depend on is gone."""


def _tail(path: Path, lines: int = 25) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _wait(what: str, ready: Callable[[], bool], process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not ready():
        if process.poll() is not None:
            raise Exited(f"{what} exited with {process.returncode}; the end of {log}:\n{_tail(log)}")
        if time.monotonic() > deadline:
            raise Exited(f"{what} not ready after {STARTUP_TIMEOUT:.0f} s; see {log}")
        time.sleep(0.5)


def _sandbox_connection() -> str | None:
    """The connection JSON from the banner the sandbox prints once it listens (None before that)."""
    prefix = f"export {CONNECTION_VARIABLE}="
    for line in SANDBOX_LOG.read_text(errors="replace").splitlines():
        if line.strip().startswith(prefix):
            return shlex.split(line.strip()[len("export ") :])[0].split("=", 1)[1]
    return None


def _store_connection(env: dict[str, str], connection: str) -> None:
    """Save the connection in the metadata DB, where the UI lists it and the connection form edits it."""
    document = json.loads(connection)
    document["extra"] = json.dumps(document["extra"])
    path = DEMO_DIR / "connection.json"
    path.write_text(json.dumps({CONNECTION_ID: document}))
    try:
        with SETUP_LOG.open("ab") as log:
            subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
                [sys.executable, "-m", "airflow", "connections", "import", str(path), "--overwrite"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=True,
            )
    finally:
        path.unlink()


def _healthy(url: str) -> bool:
    try:
        health = requests.get(f"{url}/api/v2/monitor/health", timeout=5).json()
    except (requests.RequestException, ValueError):
        return False
    return all((health.get(key) or {}).get("status") == "healthy" for key in HEALTH_KEYS)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _serve(env: dict[str, str], url: str, sandbox_url: str) -> None:
    airflow = start([sys.executable, "-m", "airflow", "standalone"], env, AIRFLOW_LOG)
    try:
        _wait("airflow standalone", lambda: _healthy(url), airflow, AIRFLOW_LOG)
        password = json.loads(PASSWORDS_FILE.read_text()).get("admin", "(see the log)")
        print(
            f"\nAirflow is up:     {url}  (user admin, password {password})\n"
            f"Sandbox inbox:     {sandbox_url}/_sandbox/\n"
            f"Connection:        {CONNECTION_ID} -> the sandbox\n"
            f"{connection_test_note(env)}\n"
            f"Logs:              {AIRFLOW_LOG}, {SANDBOX_LOG}\n"
            "Unpause or trigger the tencent_sms_* DAGs in the UI. Ctrl-C stops everything.",
            flush=True,
        )
        while airflow.poll() is None:
            time.sleep(0.5)
        raise Exited(f"airflow standalone exited with {airflow.returncode}; see {AIRFLOW_LOG}")
    finally:
        print("Stopping Airflow...", flush=True)
        # SIGINT is standalone's own Ctrl-C: it stops its components before exiting.
        stop(airflow, signal.SIGINT)


def main() -> int:
    # Ctrl-C and SIGTERM both stop everything in order. Setting SIGINT explicitly also matters when this
    # was started with SIGINT ignored (a background job): children would inherit that and ignore our stop.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    DEMO_DIR.mkdir(exist_ok=True)
    for log in (SETUP_LOG, SANDBOX_LOG, AIRFLOW_LOG):
        log.write_bytes(b"")
    api_port = free_port(AIRFLOW_PORT)
    url = f"http://127.0.0.1:{api_port}"
    env = airflow_environment(
        {
            "PYTHONUNBUFFERED": "1",
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__BASE_URL": url,
            # The defaults (8793, 8794) would collide with any other Airflow on this machine.
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port(0)),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port(0)),
        }
    )
    sandbox_port = free_port(SANDBOX_PORT if api_port != SANDBOX_PORT else 0)
    sandbox = start(
        [sys.executable, "-m", "airflow_provider_tencent_sms.sandbox", "--port", str(sandbox_port)],
        env,
        SANDBOX_LOG,
    )
    try:
        _wait("the sandbox", lambda: _sandbox_connection() is not None, sandbox, SANDBOX_LOG)
        print(f"Sandbox listening on http://127.0.0.1:{sandbox_port}", flush=True)
        print(f"Preparing {AIRFLOW_HOME} (db migrate, connection)...", flush=True)
        migrate_database(env, SETUP_LOG)
        _store_connection(env, _sandbox_connection() or "")
        print(f"Starting airflow standalone on {url} (takes a minute)...", flush=True)
        _serve(env, url, f"http://127.0.0.1:{sandbox_port}")
    except KeyboardInterrupt:
        pass
    except (Exited, RuntimeError, subprocess.CalledProcessError) as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        stop(sandbox, signal.SIGTERM)
        print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
