"""Code that already shows the skills lessonlens looks for."""

from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True)
class Product:
    sku: str
    price: float


def count_by_sku(skus: list[str]) -> Counter[str]:
    return Counter(skus)


@cache
def tax_rate(region: str) -> float:
    return {"eu": 0.2, "us": 0.07}.get(region, 0.0)


def read_catalog(path: Path) -> list[str]:
    with path.open() as handle:
        return [line.strip() for line in handle if line.strip()]


def label(product: Product) -> str:
    return f"{product.sku} at {product.price:.2f}"
