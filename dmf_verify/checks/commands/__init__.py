"""Extra dmf-verify subcommands: each module defines add(subparsers)."""
