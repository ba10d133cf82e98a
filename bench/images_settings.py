"""Settings of the image-cache benchmark's gunicorn: the project's, plus a bench-only URLconf.

Only ``bench/bench_images.py`` uses this module; it adds no public endpoint to the site.
"""

from evesite.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.images_urls"
