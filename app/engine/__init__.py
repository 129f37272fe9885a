"""The distributed engine (issue 15): background work as Celery tasks when a broker is set.

``work`` holds the work as plain functions shared with the in-process worker
(``app.worker``); ``celery_app`` the broker configuration, queues and beat schedule;
``tasks`` the Celery tasks; ``client`` what API processes use to hand work over after
commit; ``locks`` the once-per-period guard of the beat ticks.
"""
