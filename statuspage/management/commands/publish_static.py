from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from statuspage.public.snapshot import SnapshotError, publish


class Command(BaseCommand):
    help = (
        "Write the whole public site (pages in every language, assets, /api/v2/*, feeds, "
        "calendar, badges) as static files under DIR, replacing what was there atomically."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "directory",
            nargs="?",
            default=None,
            help="Where to publish (default: STATIC_SNAPSHOT_DIR).",
        )

    def handle(self, *args, directory: str | None = None, **options) -> None:
        target = directory or settings.STATIC_SNAPSHOT_DIR
        if not target:
            raise CommandError("Name a directory (or set STATIC_SNAPSHOT_DIR).")
        try:
            meta = publish(target)
        except SnapshotError as error:
            raise CommandError(f"The snapshot was not published: {error}") from error
        self.stdout.write(
            f"Published version {meta['version']} to {target}: {len(meta['files'])} files "
            f"(and static assets)."
        )
