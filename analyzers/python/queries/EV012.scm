; EV012: vectorised NumPy calls (`np.where(...)`, `np.linalg.norm(...)`), pandas string and
; datetime accessors on a column (`df["c"].str.lower`), and groupby aggregations.
; An allow-list, not "any numpy call": np.vectorize, np.frompyfunc and np.apply_along_axis loop
; in Python, and np.zeros/np.array build data without operating on it.
(call
  function: (attribute
    object: (identifier)
    attribute: (identifier) @name) @function
  (#any-of? @name
    "where" "select" "sum" "prod" "mean" "median" "average" "std" "var" "min" "max" "amin"
    "amax" "argmin" "argmax" "ptp" "percentile" "quantile" "cumsum" "cumprod" "diff" "nansum"
    "nanmean" "nanmin" "nanmax" "nanstd" "dot" "vdot" "matmul" "inner" "outer" "einsum"
    "tensordot" "abs" "absolute" "sqrt" "square" "exp" "log" "log2" "log10" "log1p" "sin" "cos"
    "tan" "arctan2" "hypot" "sign" "round" "floor" "ceil" "clip" "maximum" "minimum" "add"
    "subtract" "multiply" "divide" "power" "mod" "isnan" "isfinite" "isin" "logical_and"
    "logical_or" "logical_not" "count_nonzero" "any" "all" "sort" "argsort" "unique" "bincount"
    "histogram" "searchsorted" "digitize" "convolve" "allclose" "isclose" "array_equal"
    ; `from numpy import linalg as la; la.norm(v)`: the predicate accepts numpy.linalg too.
    "norm" "solve" "inv" "pinv" "det" "eig" "eigh" "eigvals" "svd" "qr" "cholesky" "lstsq"
    "matrix_power" "matrix_rank")) @evidence

(call
  function: (attribute
    object: (attribute
      object: (identifier)
      attribute: (identifier) @submodule)
    attribute: (identifier) @name) @function
  (#eq? @submodule "linalg")
  (#any-of? @name
    "norm" "solve" "inv" "pinv" "det" "eig" "eigh" "eigvals" "svd" "qr" "cholesky" "lstsq"
    "matrix_power" "matrix_rank")) @evidence

(attribute
  object: (attribute
    object: (subscript
      subscript: (string))
    attribute: (identifier) @accessor)
  attribute: (identifier)
  (#any-of? @accessor "str" "dt")) @evidence

(call
  function: (attribute
    object: [
      (call
        function: (attribute
          attribute: (identifier) @groupby))
      (subscript
        value: (call
          function: (attribute
            attribute: (identifier) @groupby)))
    ]
    attribute: (identifier) @method)
  (#eq? @groupby "groupby")
  (#any-of? @method "agg" "aggregate" "transform")) @evidence
