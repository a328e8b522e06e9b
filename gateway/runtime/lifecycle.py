"""Whether this node has been told to stop."""

from __future__ import annotations


class Stopping:
    """Set when SIGTERM (or SIGINT) arrives. From then on /readyz answers 503 and the ready
    gauge is 0, so that a load balancer sends traffic elsewhere while the listeners finish what
    is in flight: an orchestrator waits for that before it takes the node away."""

    def __init__(self) -> None:
        self.signal: str | None = None

    def begin(self, signal_name: str) -> None:
        self.signal = signal_name

    @property
    def reason(self) -> str | None:
        if self.signal is None:
            return None
        return (
            f"the gateway is stopping ({self.signal}): it finishes what is in flight and takes "
            "nothing new"
        )
