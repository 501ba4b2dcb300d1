"""``python -m hazwatch`` runs the command line."""

from hazwatch.cli import main

main()
