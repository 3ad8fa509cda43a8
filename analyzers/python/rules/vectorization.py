"""Rules about whole-column operations instead of Python loops over rows."""

from __future__ import annotations

from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Hit, Rule, Severity
from lessonlens.analyzers.python import facts, hotness

_ROW_AXIS = frozenset({"1", '"columns"', "'columns'"})


def _imports_pandas(m: Match) -> bool:
    return "pandas" in facts.imported_roots(m)


def _pandas_row_loop(m: Match) -> Hit | None:
    # Without a pandas import, `iterrows`/`apply` belong to some other library.
    if not _imports_pandas(m):
        return None
    call = m.node("finding")
    if hotness.cold_code(m, call):
        return None  # a test's or an error path's handful of rows
    axis = m.get("axis")
    if axis is None:
        return Hit(
            span_of(call),
            message="`iterrows()` builds a Series for every row; "
            "prefer column operations, or `itertuples()` when a loop is needed.",
        )
    if m.text(axis) not in _ROW_AXIS:
        return None
    return Hit(
        span_of(call),
        message=f"`apply(..., axis={m.text(axis)})` calls Python once per row; "
        "prefer column operations.",
    )


RULES = [
    Rule(
        id="PY017",
        name="pandas-row-loop",
        language="python",
        query="PY017.scm",
        message="A Python-level loop over DataFrame rows; prefer whole-column operations.",
        skill_id="python.vectorization",
        lesson_id="pandas-vectorize",
        severity=Severity.INFORMATION,
        check=_pandas_row_loop,
        doc="""
## What it does
Flags `for ... in df.iterrows()` (in a loop or a comprehension) and `df.apply(f, axis=1)` /
`axis="columns"`, in files that import pandas. `itertuples()` is not flagged: it is the
recommended fallback when a row loop is unavoidable. `Series.apply` (no `axis`) is not flagged.

## Why is this bad?
pandas is fast when one call processes a whole column in compiled code. `iterrows()` instead
builds a new `Series` object for every row (and upcasts mixed dtypes to `object` on the way);
`apply(axis=1)` does the same and then calls your Python function once per row. On large frames
both are often one or two orders of magnitude slower than the column-wise equivalent.

Not all row logic has a vectorised form: calls to external services, complex branching that
`numpy.where`/`numpy.select` cannot express, or code that must see rows in order. There,
`itertuples()` is much faster than `iterrows()`, and plain lists or a compiled helper may beat
both.

## Example
```python
for i, row in df.iterrows():
    df.loc[i, "total"] = row["price"] * row["qty"]

df["band"] = df.apply(lambda r: "high" if r["total"] > 100 else "low", axis=1)
```

## Use instead
```python
df["total"] = df["price"] * df["qty"]
df["band"] = np.where(df["total"] > 100, "high", "low")
```

## References
- https://pandas.pydata.org/docs/user_guide/basics.html#iteration
- https://pandas.pydata.org/docs/reference/api/pandas.DataFrame.iterrows.html
- https://pandas.pydata.org/docs/reference/api/pandas.DataFrame.apply.html
""",
    ),
]
