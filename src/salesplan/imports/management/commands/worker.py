"""salesplan worker [--concurrency N]: run background jobs from the broker
(SALESPLAN_TASK_BROKER, Redis or RabbitMQ) in a Celery worker pool."""

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from salesplan.core.celery_app import app


class Command(BaseCommand):
    help = "Run a worker that executes background jobs (imports, exports, optimisations)."

    def add_arguments(self, parser):
        parser.add_argument("--concurrency", type=int, default=2,
                            help="worker processes (default 2)")
        parser.add_argument("--queues", default="",
                            help="comma-separated queues to consume (default: all jobs)")
        parser.add_argument("--loglevel", default="info")

    def handle(self, *args, **options):
        if not settings.TASK_BROKER_URL:
            raise CommandError("Set SALESPLAN_TASK_BROKER (redis://… or amqp://…); without a "
                               "broker, jobs run inline in the web process and need no worker.")

        app.conf.broker_url = settings.TASK_BROKER_URL
        # Forked pool processes must open their own database connections.
        connections.close_all()
        # A node name of its own: RabbitMQ gives each node an exclusive control queue, so a
        # second worker on the same host with the default name would be refused.
        argv = ["worker", f"--concurrency={options['concurrency']}",
                f"--loglevel={options['loglevel']}", "--without-gossip", "--without-mingle",
                f"--hostname=salesplan-{os.getpid()}@%h"]
        if options["queues"]:
            argv.append(f"--queues={options['queues']}")
        app.worker_main(argv)
