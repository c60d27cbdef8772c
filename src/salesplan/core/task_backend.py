"""A django.tasks backend that hands tasks to a Celery worker pool.

The broker is Redis or RabbitMQ (SALESPLAN_TASK_BROKER). The job's own row
(BackgroundJob) carries progress and outcome, so results need no result backend.
"""

from django.tasks import DEFAULT_TASK_QUEUE_NAME
from django.tasks.backends.base import BaseTaskBackend
from django.tasks.base import TaskResult, TaskResultStatus
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.json import normalize_json


class CeleryTaskBackend(BaseTaskBackend):
    supports_defer = True

    def __init__(self, alias, params):
        super().__init__(alias, params)
        from salesplan.core.celery_app import app

        broker = self.options.get("broker_url")
        if broker:
            app.conf.broker_url = broker
        self.app = app
        # Celery creates queues on demand, so any queue name is valid (an empty set
        # switches off django.tasks' check against a fixed list).
        self.queues = set()

    def enqueue(self, task, args, kwargs):
        self.validate_task(task)
        result_id = get_random_string(32)
        args, kwargs = normalize_json(list(args)), normalize_json(dict(kwargs))
        self.app.send_task(
            "salesplan.run_django_task",
            args=[task.module_path, args, kwargs, result_id],
            task_id=result_id,
            eta=task.run_after,
            # The default queue is Celery's default; other names route to workers
            # started with `salesplan worker --queues NAME`.
            queue=None if task.queue_name == DEFAULT_TASK_QUEUE_NAME else task.queue_name,
        )
        return TaskResult(
            task=task, id=result_id, status=TaskResultStatus.READY, enqueued_at=timezone.now(),
            started_at=None, last_attempted_at=None, finished_at=None, args=args, kwargs=kwargs,
            backend=self.alias, errors=[], worker_ids=[],
        )
