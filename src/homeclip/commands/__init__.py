"""One module per `homeclip` subcommand: HELP/DESCRIPTION, add_arguments(parser), run(args) -> int."""
