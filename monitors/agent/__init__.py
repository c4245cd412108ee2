"""`statuspage-agent`: a vantage point outside the trust boundary, with nothing but HTTP(S) to
the site and its own token (protocol: the site's `monitors/agent_views.py`).

It pulls its assignment (`cli.Assignment`), runs the probes on its own clock with the
site's own checks and conditions (`runner`), writes every result to a local SQLite spool
first (`spool`), and an uploader posts them in order, in gzip batches, deleting them only once
the site has answered 200 (`uploader`). `cli` wires the threads together.

Nothing here touches a database other than the spool, a broker, or Django's settings: the
agent runs wherever `pip install` of this project does (an import contract checks it).
"""
