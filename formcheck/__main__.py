import sys

from .cli import main

if __name__ == "__main__":  # a spawned pose helper re-imports this module and must not run the CLI
    sys.exit(main())
