"""`python -m kspec` and the `kspec` command: Ctrl-C while the command line is still loading
also ends with one line and exit status 130."""

from .exits import INTERRUPTED, exit_with


def run() -> None:
    try:
        from .cli import main
    except KeyboardInterrupt:
        exit_with("interrupted", INTERRUPTED)
    main()


if __name__ == "__main__":
    run()
