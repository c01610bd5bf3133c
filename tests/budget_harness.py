"""Run hostile inputs through `load_run` + `diagnose` in limited subprocesses and report what each cost.

Run as a script it is a worker: it reads one JSON task a line on stdin ({"id", "root", "outside"}) and answers one
JSON line each: seconds, peak RSS of that input (VmHWM, reset before each input through /proc/self/clear_refs),
the traceback if anything escaped, any path under `outside` that was opened or listed, any file opened for writing,
and the warnings. An audit hook (PEP 578) sees every open, listdir, scandir and sqlite connect of the process.

Imported, `run_pool(tasks)` feeds tasks to a few such workers, each under an address-space limit so a bomb cannot
take the machine down, and kills a worker whose input runs past the per-input timeout (recorded as a hang); `Worker`
keeps one such worker across calls, for tests that send one input each.
"""

from __future__ import annotations

import json
import os
import resource
import selectors
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RSS_LIMIT_MB = 1536  # the bound per input
AS_LIMIT = 4 << 30  # address-space cap of a worker: a runaway input dies instead of swapping the shared machine


def _peak_mb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass  # older kernels: the peak stays the process's, still an upper bound


def _worker() -> None:
    import traceback

    state: dict = {"outside": None, "root": None, "hits": [], "writes": []}

    def hook(event: str, args: tuple) -> None:
        if state["root"] is None or event not in ("open", "os.listdir", "os.scandir", "sqlite3.connect"):
            return
        target = args[0] if args else None
        if isinstance(target, bytes):
            target = os.fsdecode(target)
        if not isinstance(target, str):
            return
        real = os.path.realpath(target)
        if real.startswith(state["outside"]):
            state["hits"].append(f"{event} {target}")
        if event == "open" and real.startswith(state["root"]):
            mode = args[1] if len(args) > 1 else None
            flags = args[2] if len(args) > 2 else 0
            if (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC)
            ):
                state["writes"].append(target)

    sys.addaudithook(hook)
    try:  # the checkpoint reader's fallback imports torch lazily: pay that once here, not inside an input's time
        import torch  # noqa: F401
    except ImportError:
        pass
    from traindoc.diagnosis.build import diagnose
    from traindoc.ingest import load_run

    for line in sys.stdin:
        task = json.loads(line)
        state.update(root=os.path.realpath(task["root"]), outside=os.path.realpath(task["outside"]), hits=[],
                     writes=[])
        _reset_peak()
        t0 = time.perf_counter()
        tb = None
        warnings: list[str] = []
        try:
            run = load_run([task["root"]])
            warnings = list(run.warnings)
            json.dumps(diagnose(run, [task["root"]]), default=str)
        except BaseException:  # noqa: BLE001 - the point is to report anything that escapes
            tb = traceback.format_exc()[-2000:]
        out = {"id": task["id"], "seconds": time.perf_counter() - t0, "rss_mb": _peak_mb(), "traceback": tb,
               "outside": state["hits"][:5], "writes": state["writes"][:5], "warnings": warnings[:20]}
        state["root"] = None
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))


def _spawn() -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env, preexec_fn=_limit)


def run_pool(tasks: list[dict], workers: int = 2, timeout: float = 60.0) -> dict[str, dict]:
    """{task id: result}; an input past `timeout` gives {"hang": True}; a worker that died gives {"died": rc}."""
    todo = list(reversed(tasks))
    results: dict[str, dict] = {}
    sel = selectors.DefaultSelector()
    busy: dict[subprocess.Popen, tuple[dict, float]] = {}

    def start(proc: subprocess.Popen | None) -> None:
        if not todo:
            if proc is not None:
                sel.unregister(proc.stdout)
                proc.stdin.close()
                proc.wait()
            return
        if proc is None:
            proc = _spawn()
            sel.register(proc.stdout, selectors.EVENT_READ, proc)
        task = todo.pop()
        proc.stdin.write(json.dumps(task) + "\n")
        proc.stdin.flush()
        busy[proc] = (task, time.monotonic())

    def retire(proc: subprocess.Popen) -> None:
        sel.unregister(proc.stdout)
        proc.kill()
        proc.wait()
        busy.pop(proc, None)

    for _ in range(min(workers, len(todo))):
        start(None)
    while busy:
        now = time.monotonic()
        wait = max(0.05, min(t0 + timeout - now for _, t0 in busy.values()))
        for key, _ in sel.select(wait):
            proc = key.data
            line = proc.stdout.readline()
            task, _t0 = busy.pop(proc)
            if not line:  # the worker died (address-space limit, a crash in C)
                results[task["id"]] = {"died": proc.wait()}
                sel.unregister(proc.stdout)
                start(None)
                continue
            results[task["id"]] = json.loads(line)
            start(proc)
        now = time.monotonic()
        for proc, (task, t0) in list(busy.items()):
            if now - t0 > timeout:
                results[task["id"]] = {"hang": True, "seconds": now - t0}
                retire(proc)
                start(None)
    return results


class Worker:
    """One limited worker kept across calls, for tests that each send a single input: starting a worker (python,
    torch, traindoc) costs ~2.2 CPU-s, more than most inputs. Each input is measured as in run_pool (peak RSS reset
    before it, its own audit of opens and writes); a worker that died or ran past the timeout is replaced before
    the next input, so no input inherits a broken one."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None

    def run(self, task: dict, timeout: float = 60.0) -> dict:
        """The result of one input, as run_pool gives it: {"hang": True, ...} past `timeout`, {"died": rc}."""
        if self.proc is None or self.proc.poll() is not None:
            self.proc = _spawn()
        proc = self.proc
        proc.stdin.write(json.dumps(task) + "\n")
        proc.stdin.flush()
        t0 = time.monotonic()
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            ready = sel.select(timeout)
        if not ready:
            self._retire()
            return {"hang": True, "seconds": time.monotonic() - t0}
        line = proc.stdout.readline()
        if not line:  # the worker died (address-space limit, a crash in C)
            rc = proc.wait()
            self.proc = None
            return {"died": rc}
        return json.loads(line)

    def _retire(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def close(self) -> None:
        if self.proc is not None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._retire()
            self.proc = None


def problems(result: dict) -> list[str]:
    """What is wrong with one input's result, in words ([] when it met every bound)."""
    if result.get("hang"):
        return [f"ran past {result['seconds']:.0f} s"]
    if "died" in result:
        return [f"worker died (rc {result['died']}), likely over the address-space limit"]
    out = []
    if result["traceback"]:
        out.append("exception escaped: " + result["traceback"].strip().splitlines()[-1])
    if result["rss_mb"] > RSS_LIMIT_MB:
        out.append(f"peak RSS {result['rss_mb']:.0f} MB")
    if result["outside"]:
        out.append(f"touched outside the root: {result['outside']}")
    if result["writes"]:
        out.append(f"opened for writing: {result['writes']}")
    if any("out of memory" in w or "Traceback" in w for w in result["warnings"]):
        out.append(f"warning shows a failure: {result['warnings']}")
    return out


if __name__ == "__main__":
    _worker()
