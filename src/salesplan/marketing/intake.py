"""The capture intake in a server process. One thread of the process does all of the
intake's writing: it stores the submissions that request threads hand over (many in
one transaction; each request is answered once its submission is committed), then turns
stored submissions into leads in batches (capture.process_inbox), and scores them when
no submissions wait. Batches form by themselves: whatever arrives while the thread is
busy makes up the next one, so under load the cost of each transaction, of
de-duplicating and of routing is shared by many submissions.

Several server processes may each run the thread; their batches take turns. Submissions
stored by a process that stopped before processing them are taken by the next batch of
any process, or by `salesplan marketing process-inbox`.
"""

import logging
import threading
import time
from datetime import timedelta

from django.db import connection, transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from . import capture
from .models import CaptureForm, CaptureRateCount, CaptureSubmission

log = logging.getLogger(__name__)

PROCESS_CHUNK = 300  # most submissions turned into leads in one batch
GATHER_SECONDS = 0.2  # a stored submission waits at most this long for others to join it
WAIT_SECONDS = 30  # a request gives up (503) if its submission is not stored by then
KEEP_PROCESSED_DAYS = 30
HOUSEKEEPING_SECONDS = 60
RETRIES = 3  # then the next submission (or `marketing process-inbox`) tries again


class IntakeUnavailable(Exception):
    """The submission could not be stored; the visitor should try again shortly."""


class Intake:
    """The intake thread of this process, started by the first submission."""

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._lock = threading.Lock()
        self._queue: list[tuple[capture.Arrival, threading.Event, list]] = []
        self._thread: threading.Thread | None = None
        self._housekept = 0.0

    def hand_over(self, arrival: capture.Arrival) -> None:
        """Have the arrival stored with others; returns once it is committed."""
        done = threading.Event()
        failure: list[BaseException] = []
        with self._lock:
            self._queue.append((arrival, done, failure))
            self._ensure_thread()
            self._idle.clear()
        self._wake.set()
        if not done.wait(WAIT_SECONDS):
            raise IntakeUnavailable("The intake is busy.")
        if failure:
            raise IntakeUnavailable(str(failure[0]))

    def wake(self) -> None:
        with self._lock:
            self._ensure_thread()
            self._idle.clear()
        self._wake.set()

    def wait_idle(self, seconds: float) -> bool:
        """Wait until the thread has nothing left to do (True), or give up."""
        return self._idle.wait(seconds)

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="capture-intake",
                                            daemon=True)
            self._thread.start()

    def _take(self) -> list[tuple[capture.Arrival, threading.Event, list]]:
        with self._lock:
            taken, self._queue = self._queue, []
        return taken

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            for attempt in range(RETRIES):
                try:
                    self._work()
                    break
                except Exception:  # noqa: BLE001 — the thread must outlive a failed round
                    log.exception("The capture intake failed (attempt %d of %d); stored "
                                  "submissions wait for the next round.", attempt + 1, RETRIES)
                    time.sleep(attempt + 1)
                finally:
                    connection.close()  # idle between bursts: hold no connection
            with self._lock:
                if not self._queue and not self._wake.is_set():
                    self._idle.set()

    def _work(self) -> None:
        """Store what arrives at once; process stored submissions once a chunk has
        gathered or the oldest has waited GATHER_SECONDS (bigger batches cost less per
        lead); score when nothing else waits."""
        waiting, since = 1, time.monotonic()  # whatever woke us, look at the inbox once
        while True:
            arrivals = self._take()
            if arrivals:
                self._store(arrivals)
                waiting += len(arrivals)
            due = waiting >= PROCESS_CHUNK or time.monotonic() - since >= GATHER_SECONDS
            if waiting and due:
                processed = capture.process_inbox(PROCESS_CHUNK, score=False)
                waiting = max(0, waiting - processed) if processed else 0
                since = time.monotonic()
                continue
            if self._queue:
                continue
            if waiting:
                self._wake.wait(max(0.0, GATHER_SECONDS - (time.monotonic() - since)))
                self._wake.clear()
                continue
            if capture.score_captured(PROCESS_CHUNK):  # only when nothing else waits
                continue
            break
        if time.monotonic() - self._housekept > HOUSEKEEPING_SECONDS:
            housekeeping()
            self._housekept = time.monotonic()

    def _store(self, arrivals: list[tuple[capture.Arrival, threading.Event, list]]) -> None:
        try:
            with transaction.atomic():
                capture.store([arrival for arrival, _, _ in arrivals])
        except Exception as exc:  # noqa: BLE001 — each waiting request is told
            log.exception("Storing %d capture submissions failed.", len(arrivals))
            for arrival, _, failure in arrivals:
                arrival.submission_id = None
                failure.append(exc)
        finally:
            for _, done, _ in arrivals:
                done.set()


intake = Intake()


def drain(limit: int = capture.BATCH) -> int:
    """Process waiting submissions until none are left; returns how many."""
    total = 0
    while True:
        taken = capture.process_inbox(limit)
        total += taken
        if taken == 0:
            return total


def housekeeping() -> None:
    """Forget the allowance counts of minutes gone, and processed submissions after a
    month (failed ones stay until someone retries or removes them)."""
    minute = int(time.time() // capture.RATE_WINDOW)
    CaptureRateCount.objects.filter(minute__lt=minute - 1).delete()
    CaptureSubmission.objects.filter(
        status=CaptureSubmission.Status.DONE,
        processed_at__lt=timezone.now() - timedelta(days=KEEP_PROCESSED_DAYS)).delete()


def submit(form: CaptureForm, raw: dict, *, address: str, strict: bool = True
           ) -> capture.Receipt:
    """Take a public submission: stored by this process's intake thread and processed
    moments later; or stored and processed at once when the caller is inside a
    transaction (another connection could not see it before the caller commits)."""
    if connection.in_atomic_block:
        receipt = capture.accept(form, raw, address=address, strict=strict)
        if receipt.submission_id is not None:
            capture.process_inbox()
        return receipt
    return capture.accept(form, raw, address=address, strict=strict,
                          hand_over=intake.hand_over)


def retry_failed() -> int:
    """Put failed submissions back in line (after the cause is fixed)."""
    return CaptureSubmission.objects.filter(status=CaptureSubmission.Status.FAILED).update(
        status=CaptureSubmission.Status.PENDING, error="")


@receiver(post_save, sender=CaptureForm)
def _form_changed(sender, instance: CaptureForm, **kwargs) -> None:
    capture.forget_form(instance.key)
