"""The static snapshot: the whole public site as files any web server or CDN can serve, and
that the live site falls back to when its database is unreachable.

Pages are rendered through Django's test client, so they are byte for byte what the live site
serves: starting from `/` and the data documents, every same-site link is followed (the staff
console, the admin and forms are not part of the public site). Each page is written as
`<path>/index.html` in the default language and `<path>/index.<language>.html` in every
language; data documents (`.json`, `.rss`, `.atom`, `.ics`, `.svg`) keep their own names.

A snapshot is built in a fresh directory and published by atomically replacing a symbolic link,
so that readers never see half of one. Writers on one host are serialised by a lock file; the
version each snapshot shows is in `snapshot.json`.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import timezone

from statuspage.models import Component, SiteState

META_FILE = "snapshot.json"
# Set in the WSGI environ of the renderer's own requests, which are never answered from a
# snapshot. Not a header: a server puts a client's headers under HTTP_* keys only, so no client
# can set this (a header once did, and switched the database-down fallback off for anyone).
RENDER_ENVIRON = "statuspage.snapshot_render"
# Not the public site: staff pages, forms, the write API, probes' ping endpoints.
PRIVATE_PREFIXES = (
    "/admin",
    "/console",
    "/accounts",
    "/api/v1",
    "/subscriptions",
    "/i18n",
    "/probes",
    "/static/",
    "/health",  # live or nothing: a copy of it would be a lie
)
DATA_PATHS = (
    "/api/v2/summary.json",
    "/api/v2/status.json",
    "/api/v2/components.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
    "/api/v2/scheduled-maintenances.json",
    "/api/v2/scheduled-maintenances/upcoming.json",
    "/api/v2/scheduled-maintenances/active.json",
    "/feeds/incidents.rss",
    "/feeds/incidents.atom",
    "/calendar/maintenance.ics",
    "/badge.svg",
)
MAX_PAGES = 5000


class SnapshotError(RuntimeError):
    pass


def is_public_path(path: str) -> bool:
    return path.startswith("/") and not path.startswith(PRIVATE_PREFIXES)


def is_document(path: str) -> bool:
    """A data document (kept under its own name) rather than a page (a directory)."""
    return "." in path.rsplit("/", 1)[-1]


def page_file(path: str, language: str | None = None) -> str:
    """The relative file a page path is written to: `/incidents/3` -> `incidents/3/index.html`."""
    directory = path.strip("/")
    name = f"index.{language}.html" if language else "index.html"
    return f"{directory}/{name}" if directory else name


class LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # Images too: the front page's charts are files of their own.
        attribute = {"a": "href", "link": "href", "img": "src"}.get(tag)
        if attribute:
            url = dict(attrs).get(attribute)
            if url:
                self.links.append(url)


def same_site_paths(html: str, base_path: str) -> Iterator[str]:
    """Paths of the links in a page that stay on this site (no query string: a static server
    cannot answer one)."""
    parser = LinkParser()
    parser.feed(html)
    site = urlsplit(settings.SITE_URL)
    for href in parser.links:
        url = urlsplit(urljoin(f"{settings.SITE_URL}{base_path}", href))
        if (url.scheme, url.netloc) != (site.scheme, site.netloc) or url.query:
            continue
        if is_public_path(url.path):
            yield url.path


@dataclass
class Rendering:
    path: str
    files: dict[str, bytes]


class SiteRenderer:
    """Renders the public site through Django's test client."""

    def __init__(self) -> None:
        site = urlsplit(settings.SITE_URL)
        self.secure = site.scheme == "https"
        self.host = site.netloc or "localhost"
        self.languages = [code for code, _name in settings.LANGUAGES]

    def get(self, path: str, language: str | None = None):
        client = Client(
            HTTP_HOST=self.host,
            HTTP_ACCEPT_LANGUAGE=language or settings.LANGUAGE_CODE,
            **{RENDER_ENVIRON: True},
        )
        return client.get(path, secure=self.secure)

    def render_document(self, path: str) -> Rendering | None:
        response = self.get(path)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise SnapshotError(f"{path}: HTTP {response.status_code}")
        return Rendering(path, {path.lstrip("/"): response.content})

    def render_page(self, path: str) -> tuple[Rendering, list[str]] | None:
        """All languages of a page, and the page's same-site links."""
        files: dict[str, bytes] = {}
        links: list[str] = []
        for language in self.languages:
            response = self.get(path, language)
            if response.status_code in (404, 405) or 300 <= response.status_code < 400:
                return None
            if response.status_code != 200:
                raise SnapshotError(f"{path} ({language}): HTTP {response.status_code}")
            if not response["Content-Type"].startswith("text/html"):
                return None
            files[page_file(path, language)] = response.content
            if language == settings.LANGUAGE_CODE:
                files[page_file(path)] = response.content
            links.extend(same_site_paths(response.content.decode(), path))
        return Rendering(path, files), links

    def render_site(self) -> dict[str, bytes]:
        """Every public file: pages (crawled from `/`), data documents, per-component feeds
        and badges."""
        files: dict[str, bytes] = {}
        documents = list(DATA_PATHS)
        for slug in Component.objects.public().values_list("slug", flat=True):
            documents += [
                f"/feeds/components/{slug}.rss",
                f"/feeds/components/{slug}.atom",
                f"/components/{slug}/badge.svg",
            ]
        queue = ["/"]
        seen: set[str] = set(queue)
        while queue:
            path = queue.pop(0)
            if is_document(path):
                if path not in documents:
                    documents.append(path)
                continue
            result = self.render_page(path)
            if result is None:
                continue
            rendering, links = result
            files.update(rendering.files)
            for link in links:
                if link not in seen and len(seen) < MAX_PAGES:
                    seen.add(link)
                    queue.append(link)
        for path in documents:
            rendering = self.render_document(path)
            if rendering is not None:
                files.update(rendering.files)
        return files


def static_assets() -> Iterator[tuple[str, Path]]:
    """The site's static files (the admin's excepted), as (relative path, source)."""
    prefix = "/" + settings.STATIC_URL.strip("/")
    for finder in finders.get_finders():
        for relative, storage in finder.list(["admin/*", "*.scss"]):
            yield f"{prefix.lstrip('/')}/{relative}", Path(storage.path(relative))


def write_tree(root: Path, files: dict[str, bytes], version: int, generated_at: datetime) -> None:
    for relative, content in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    for relative, source in static_assets():
        target = root / relative
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    meta = {
        "version": version,
        "generated_at": generated_at.isoformat(),
        "files": sorted(files),
    }
    (root / META_FILE).write_text(json.dumps(meta, indent=1))


@contextmanager
def writer_lock(target: Path) -> Iterator[None]:
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def swap_in(target: Path, build: Path) -> None:
    """Point `target` (a symbolic link) at `build` atomically; remove the builds it replaces."""
    link = target.parent / f".{target.name}.link-{uuid.uuid4().hex}"
    os.symlink(build.name, link)
    if target.exists() and not target.is_symlink():
        # A plain directory from elsewhere (first run): set it aside, then take its place.
        target.rename(target.parent / f".{target.name}.old-{uuid.uuid4().hex}")
    os.replace(link, target)
    for stale in target.parent.glob(f".{target.name}.*"):
        if stale != build and stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)


def publish(target: Path | str, now: datetime | None = None) -> dict:
    """Render the whole public site and publish it at `target`; return its metadata."""
    target = Path(target).absolute()
    now = now or timezone.now()
    with writer_lock(target):
        # Read the version before rendering: the snapshot is at least this recent.
        version = SiteState.objects.filter(pk=1).values_list("version", flat=True).first() or 1
        files = SiteRenderer().render_site()
        build = target.parent / f".{target.name}.build-{version}-{uuid.uuid4().hex[:8]}"
        build.mkdir(parents=True)
        try:
            write_tree(build, files, version, now)
            swap_in(target, build)
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise
    return read_meta(target) or {}


def read_meta(root: Path | str) -> dict | None:
    try:
        return json.loads((Path(root) / META_FILE).read_text())
    except (OSError, ValueError):
        return None


def refresh_if_stale(target: Path | str) -> int | None:
    """Publish a new snapshot if the public version moved since the last one; return the
    version written, or None. The version is claimed with a conditional UPDATE, so that of
    several workers running this at once exactly one writes it; if writing fails the claim is
    given back, so the next run tries again."""
    state = SiteState.objects.filter(pk=1).values_list("version", "snapshot_version").first()
    if state is None:
        SiteState.current()
        state = (1, 0)
    version, published = state
    if published >= version:
        return None
    claimed = SiteState.objects.filter(pk=1, snapshot_version=published).update(
        snapshot_version=version
    )
    if not claimed:
        return None
    try:
        publish(target)
    except BaseException:
        SiteState.objects.filter(pk=1, snapshot_version=version).update(snapshot_version=published)
        raise
    return version
