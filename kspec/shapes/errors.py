"""The exception a shape rule raises; inference turns it into a located diagnostic."""


class ShapeError(Exception):
    """A layer cannot take the shapes it is given. `code` is a KS6xx code."""

    def __init__(self, code: str, message: str, hint: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint


def fmt(shape) -> str:
    """A shape as Keras prints it: (None, 32, 32, 3)."""
    if isinstance(shape, list):
        return "[" + ", ".join(fmt(s) for s in shape) + "]"
    inner = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"
