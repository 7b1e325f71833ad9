"""The voice agent itself: its instructions and its one function tool.

It imports only ``livekit.agents`` (no provider plugin), so the same class runs in a real
call (``agent.py``) and in turnscope's offline simulation in CI (``tests/examples``).
"""

from __future__ import annotations

from livekit.agents import Agent, RunContext, function_tool

__all__ = ["INSTRUCTIONS", "ORDERS", "Assistant", "order_status"]

INSTRUCTIONS = (
    "You are Max, the voice assistant of Acme Outdoor, an online shop for camping gear. "
    "Keep answers short: one or two sentences, plain words, no lists or markdown. "
    "When the caller asks where an order is, ask for the order number if you do not have "
    "it, then call lookup_order and tell them what it says."
)

ORDERS: dict[str, str] = {
    "1042": "shipped on Monday with UPS, arriving Thursday",
    "1043": "being packed; it ships tomorrow",
    "1044": "delivered on Saturday to the front desk",
}
"""A stand-in for your order database, so the example runs without one."""


def order_status(order_number: str) -> str:
    """What ``lookup_order`` tells the model about one order."""
    number = order_number.strip().lstrip("#")
    status = ORDERS.get(number)
    if status is None:
        return f"Order {number} was not found. Ask the caller to check the number."
    return f"Order {number} is {status}."


class Assistant(Agent):
    def __init__(self) -> None:
        super().__init__(instructions=INSTRUCTIONS)

    @function_tool
    async def lookup_order(self, context: RunContext[None], order_number: str) -> str:
        """Look up the status of a customer's order.

        Args:
            order_number: The order number the caller gave, digits only.
        """
        return order_status(order_number)
