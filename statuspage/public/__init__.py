"""The public site: what anyone may read, without signing in.

Where things are:

- `page_urls.py`, `views.py`: the HTML pages. The front page (`/`) is loaded by
  `front_page.load_page`; the incident, maintenance, component and history pages by
  `detail_pages`. Both build the frozen `view_models` the templates show.
- `uptime.py` computes the 90-day uptime bars, `uptime_bars.py` draws them as HTML;
  `component_charts.py` loads the response-time charts, `charts.py` draws them as SVG.
- `data_urls.py`: the machine-readable side. `api_v2.py` is Statuspage's JSON API:
  `/api/v2/summary.json` (`api_v2.summary`, body `api_v2.summary_document`), `status.json`,
  `components.json`, `incidents*.json`, `scheduled-maintenances*.json`. Then `feeds.py` (RSS,
  Atom), `calendar.py` (iCal), `badges.py` (SVG badges).
- `queries.py`: reads several surfaces share (which components are public, in what order; the
  page's story); `visibility.py`: what rows say about internal ones.
- `caching.py`: the per-version cache of every public response, and `early_answers.py`, the
  middleware that repeats a kept answer before the session middleware; `snapshot.py`, `fallback.py`:
  the static copy served when the application is down; `selfcheck.py`: the "is it me?" rules.
"""
