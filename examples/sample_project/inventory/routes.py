"""Which warehouses can ship to which: a breadth-first search over the route map."""

from collections import deque


def reachable(routes: dict[str, list[str]], start: str) -> list[str]:
    seen = {start}
    order = []
    queue = deque([start])
    while queue:
        warehouse = queue.popleft()
        order.append(warehouse)
        for nxt in routes.get(warehouse, []):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return order
