"""``python -m minemap``: the same as the ``minemap`` command."""

from minemap.cli.main import main

if __name__ == "__main__":
    main()
