"""Ralph's file-system LRS backend, made to append: `make lrs` and the tests' Ralph import this.

Ralph's `fs` backend opens its one statements file in "create" mode, so every POST after the
first fails with HTTP 500 (Ralph 4.x and 5.1). Python imports `sitecustomize` at start-up from
PYTHONPATH, in every process `ralph runserver` starts (its reloader spawns one). Other backends
are untouched.
"""

try:
    from ralph.backends.data.base import BaseOperationType
    from ralph.backends.lrs.fs import FSLRSBackend

    FSLRSBackend.default_operation_type = BaseOperationType.APPEND
except ImportError:
    pass
