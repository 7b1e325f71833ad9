"""A loopback OTLP/HTTP receiver in a process of its own, so decoding what it receives never
competes with the process being measured.

Run: python -m benchmarks.receiver — prints its URL, serves until stdin closes, then prints
how many spans it decoded (``tests/otlp_receiver.py`` does the decoding).
"""

from __future__ import annotations

import subprocess
import sys
import threading

from tests.otlp_receiver import OTLPReceiver


class ReceiverProcess:
    """The receiver, started as a child process: ``url`` while it runs, ``stop()`` → spans."""

    def __init__(self) -> None:
        self._child = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.receiver"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._child.stdout is not None
        self.url = self._child.stdout.readline().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the receiver did not start: {self.url!r}")

    def stop(self) -> int:
        """Stop the receiver; the number of spans it decoded."""
        out, _ = self._child.communicate(timeout=60)
        return int(out.strip() or 0)


def _serve() -> None:
    receiver = OTLPReceiver().start()
    counted = [0]
    stop = threading.Event()

    def drain() -> None:
        """Count and forget what arrived, so a long benchmark does not fill the memory."""
        while receiver.requests:
            request = receiver.requests.pop(0).request
            counted[0] += sum(
                len(scope.spans)
                for resource in request.resource_spans
                for scope in resource.scope_spans
            )

    def count() -> None:
        while not stop.wait(0.2):
            drain()

    counter = threading.Thread(target=count, daemon=True)
    counter.start()
    print(receiver.url, flush=True)
    sys.stdin.read()
    receiver.stop()
    stop.set()
    counter.join()
    drain()
    print(counted[0], flush=True)


if __name__ == "__main__":
    _serve()
