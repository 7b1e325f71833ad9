"""STT usage is a metered stream, not per utterance (DESIGN §4).

Streaming recognizers report usage periodically (every few seconds of audio sent, silence
included) and once more at close; others report once per utterance. The meter keeps every
report, gives each user turn its share — a report that is the utterance's own counts whole, a
slice of a stream counts for the audio that overlaps the user's speech — and leaves the rest
as the call's idle STT audio. Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from typing import TYPE_CHECKING

from turnscope.records import ComponentRequest

if TYPE_CHECKING:
    from turnscope import events as ev

__all__ = ["STTMeter"]

HORIZON = 60.0
"""Seconds before the oldest open turn after which reports are forgotten (a periodic report
covers at most a few seconds of audio)."""

UTTERANCE_REPORT_LAG = 3.0
"""How long after the user stops speaking a per-utterance report may arrive."""

REPORT_JITTER = 0.25
"""Seconds two reports of one stream may seem to overlap without repeating audio: a report's
window ends when LiveKit processed it, not when the audio was sent, so consecutive windows
shift by the change in that lag. A larger overlap (or one over half a short report) is audio
reported again (an exact duplicate, a cumulative or over-reporting plugin), counted once."""

KEPT_STREAMS = 64
"""Streams whose covered audio is remembered, to recognize audio they report again."""

Model = tuple[str | None, str | None]


class STTMeter:
    def __init__(self) -> None:
        self._reports: list[ev.STTUsage] = []
        self._whole: set[int] = set()
        """Reports already counted whole for one utterance."""
        self._recent_ids: deque[str] = deque(maxlen=64)
        self._stream_ids: set[str] = set()
        """Request ids that reported more than once: metered streams."""
        self._covered: dict[str, list[tuple[float, float]]] = {}
        """Per request id, the audio windows already counted (merged, in time order)."""
        self.repeated = 0
        """Reports dropped or trimmed because they repeated audio already counted."""
        self.total = 0.0
        self.attributed = 0.0
        self._metered: dict[Model, float] = {}
        self._spoken: dict[Model, float] = {}

    def add(self, report: ev.STTUsage) -> None:
        if report.audio_duration <= 0:
            return  # LiveKit's connection-acquired report: no audio
        fresh = self._fresh(report)
        if fresh is None:
            return
        report = fresh
        if report.request_id in self._recent_ids:
            self._stream_ids.add(report.request_id)  # one request reporting again: a stream
        self._recent_ids.append(report.request_id)
        self._reports.append(report)
        self.total += report.audio_duration
        key = (report.provider, report.model)
        self._metered[key] = self._metered.get(key, 0.0) + report.audio_duration

    def _fresh(self, report: ev.STTUsage) -> ev.STTUsage | None:
        """The report as far as it is new audio: a repeat of audio its stream already
        reported (an exact duplicate, or a window overlapping earlier ones by more than
        ``REPORT_JITTER``) is dropped, or trimmed to the seconds not counted yet."""
        window = (report.at - report.audio_duration, report.at)
        covered = self._covered.get(report.request_id)
        if covered is None:
            covered = self._covered[report.request_id] = []
            if len(self._covered) > KEPT_STREAMS:
                del self._covered[next(iter(self._covered))]
        overlap = sum(max(0.0, min(hi, window[1]) - max(lo, window[0])) for lo, hi in covered)
        _merge(covered, window)
        if overlap <= min(REPORT_JITTER, report.audio_duration / 2):
            return report  # lag jitter; a short report that overlaps mostly is a repeat
        self.repeated += 1
        new = report.audio_duration - overlap
        if new <= min(REPORT_JITTER, report.audio_duration / 2):
            return None
        return replace(report, audio_duration=new)

    @property
    def reporting(self) -> bool:
        return bool(self._reports)

    def covers(self, until: float) -> bool:
        """Whether a report has arrived that reaches ``until`` (the end of a user's speech)."""
        return bool(self._reports) and max(r.at for r in self._reports) >= until - 0.05

    def share(self, window: tuple[float, float]) -> list[ComponentRequest]:
        """A user turn's share of the metered audio, one request per report it draws on."""
        start, stop = window
        own = self._utterance_report(window)
        shares = []
        for report in self._reports:
            if id(report) in self._whole:
                continue
            if report is own:
                self._whole.add(id(report))
                share, lo, hi = report.audio_duration, start, stop
            else:
                lo, hi = max(start, report.at - report.audio_duration), min(stop, report.at)
                share = max(0.0, hi - lo)
            if share <= 0:
                continue
            self.attributed += share
            key = (report.provider, report.model)
            self._spoken[key] = self._spoken.get(key, 0.0) + share
            shares.append(
                ComponentRequest(
                    kind="stt",
                    request_id=report.request_id,
                    provider=report.provider,
                    model=report.model,
                    started_at=lo,
                    ended_at=hi,
                    duration=report.duration,
                    audio_duration=share,
                    metered_audio=report.audio_duration,
                    streamed=report.streamed,
                )
            )
        return shares

    def _utterance_report(self, window: tuple[float, float]) -> ev.STTUsage | None:
        """The first report after the speech that reads as this utterance's own: from a
        recognizer that reports once per request (not a stream), arriving just after the
        speech ended, no longer than it."""
        start, stop = window
        spoken = stop - start
        for report in sorted(self._reports, key=lambda r: r.at):
            if id(report) in self._whole or report.request_id in self._stream_ids:
                continue
            if not stop - 0.05 <= report.at <= stop + UTTERANCE_REPORT_LAG:
                continue
            fits = report.audio_duration <= spoken + max(0.1, 0.2 * spoken)
            if fits and report.at - report.audio_duration >= start - 0.3:
                return report
        return None

    def forget_before(self, oldest_open: float) -> None:
        """Drop reports no open turn can overlap, so a long call stays flat in memory and
        time. Their audio stays counted in the totals."""
        horizon = oldest_open - HORIZON
        if self._reports and self._reports[0].at < horizon:
            kept = [r for r in self._reports if r.at >= horizon]
            self._whole &= {id(r) for r in kept}
            self._reports = kept

    @property
    def idle(self) -> float:
        return max(0.0, self.total - self.attributed)

    def by_model(self) -> tuple[tuple[str | None, str | None, float, float], ...]:
        """(provider, model, metered seconds, idle seconds) per STT model."""
        return tuple(
            (provider, model, total, max(0.0, total - self._spoken.get((provider, model), 0.0)))
            for (provider, model), total in self._metered.items()
        )


def _merge(covered: list[tuple[float, float]], window: tuple[float, float]) -> None:
    """Add ``window`` to the sorted, disjoint ``covered`` windows, merging where they touch."""
    lo, hi = window
    kept = []
    for a, b in covered:
        if b < lo or a > hi:
            kept.append((a, b))
        else:
            lo, hi = min(lo, a), max(hi, b)
    kept.append((lo, hi))
    covered[:] = sorted(kept)
