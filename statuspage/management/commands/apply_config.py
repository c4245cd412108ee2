"""manage.py apply_config FILE.yaml [--dry-run] [--prune]: make the database match a config file."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from statuspage.config_apply import apply_config, plan_config
from statuspage.config_file import ConfigError, load_config


class Command(BaseCommand):
    help = (
        "Create or update component groups, components, their dependencies, journeys and probes "
        "from a YAML file. An invalid file is rejected whole. See examples/lending-platform.yaml."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the YAML config file")
        parser.add_argument(
            "--dry-run", action="store_true", help="print what would change, write nothing"
        )
        parser.add_argument(
            "--prune", action="store_true", help="delete what the file no longer names"
        )

    def handle(self, *args, file: str, dry_run: bool, prune: bool, **options) -> None:
        try:
            config = load_config(file)
        except ConfigError as error:
            raise CommandError(f"{file} is invalid, nothing was applied:\n{error}") from None

        try:
            plan = plan_config(config) if dry_run else apply_config(config, prune=prune)
        except ConfigError as error:
            raise CommandError(f"{file} cannot be applied, nothing was applied:\n{error}") from None
        work = plan.changes + (plan.leftovers if prune and dry_run else [])
        for change in work:
            self.stdout.write(f"  {change}")
        kept = [] if prune else plan.leftovers
        if kept:
            self.stdout.write(f"Not in {file} (kept; --prune deletes them):")
            for change in kept:
                self.stdout.write(f"  {change.kind} {change.key}")
        if not work:
            self.stdout.write(self.style.SUCCESS(f"No changes: the database matches {file}."))
        elif dry_run:
            self.stdout.write(f"Dry run: {len(work)} change(s) would be made; nothing written.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Applied {len(work)} change(s) from {file}."))
