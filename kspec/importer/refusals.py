"""What `kspec import` refuses: a model that cannot become a spec, a source that cannot be loaded."""


class ImportRefused(Exception):
    """The model cannot become a spec; the message says why and what to do."""


class LoadRefused(ImportRefused):
    """The source cannot be loaded as the command line gives it (a callable in the standard
    library, a class Keras cannot find); the message says what to change."""
