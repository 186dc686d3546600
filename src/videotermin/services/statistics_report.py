"""The statistics dashboard's tables, from the anonymous counters and the survey answers,
published with small counts suppressed (:func:`videotermin.domain.statistics.suppress`).

A table is what the page shows, what its chart draws and what its CSV holds — one
object, so the three can never disagree.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from videotermin.domain.statistics import (
    CALL_BUCKETS,
    THRESHOLD,
    WAIT_BUCKETS,
    Cell,
    Grain,
    Metric,
    Outcome,
    Published,
    bucket_label,
    grain_for,
    period_of,
    quantile,
    suppress,
)
from videotermin.domain.survey import SCALE, Again
from videotermin.domain.text import N_, Text
from videotermin.services.statistics import counts
from videotermin.store.models import SurveyResponse

OUTCOME_LABELS = {
    Outcome.SCHEDULED: N_("Geplant"),
    Outcome.HELD: N_("Stattgefunden"),
    Outcome.CANCELLED: N_("Abgesagt"),
    Outcome.NO_SHOW: N_("Nicht erschienen"),
}
GRADE_LABELS = {"green": N_("grün"), "yellow": N_("gelb"), "red": N_("rot")}
QUALITY_LABELS = {"good": N_("gut"), "fair": N_("eingeschränkt"), "poor": N_("schlecht")}
ADVISOR_LABELS = {
    "on_time": N_("pünktlich (bis 5 Minuten)"),
    "late": N_("später als 5 Minuten"),
}
REASON_LABELS = {
    "camera": N_("Kamera"),
    "microphone": N_("Mikrofon"),
    "speaker": N_("Lautsprecher"),
    "connection": N_("Testanruf"),
    "round_trip": N_("Laufzeit"),
    "packet_loss": N_("Paketverlust"),
    "jitter": N_("Schwankung"),
    "bitrate": N_("Bild im Testanruf"),
    "upload": N_("Senden"),
    "download": N_("Empfangen"),
}
SURVEY_QUESTIONS = (
    ("satisfaction", N_("Umfrage: Zufriedenheit (1 = sehr zufrieden … 5 = unzufrieden)")),
    ("av_quality", N_("Umfrage: Bild und Ton (1 = sehr gut … 5 = schlecht)")),
    ("use_again", N_("Umfrage: Wieder per Video?")),
)
"""Each survey question's column and its table's title."""
USE_AGAIN_LABELS: dict[str, str] = {
    Again.YES: N_("ja"),
    Again.NO: N_("nein"),
    Again.DONT_KNOW: N_("weiß nicht"),
}
MONTHS = (
    N_("Jan. %(year)s"),
    N_("Feb. %(year)s"),
    N_("März %(year)s"),
    N_("Apr. %(year)s"),
    N_("Mai %(year)s"),
    N_("Juni %(year)s"),
    N_("Juli %(year)s"),
    N_("Aug. %(year)s"),
    N_("Sep. %(year)s"),
    N_("Okt. %(year)s"),
    N_("Nov. %(year)s"),
    N_("Dez. %(year)s"),
)
"""A month's row label, its year filled in."""
UNKNOWN = {"unbekannt": N_("unbekannt")}
"""The key a browser or system is counted under when the device check could not tell."""
TOTAL = N_("Summe")
COUNT = N_("Anzahl")


def _day_parts(day: date) -> dict[str, str]:
    return {"day": f"{day.day:02d}", "month": f"{day.month:02d}", "year": f"{day.year:04d}"}


def day_label(day: date) -> Text:
    """A day as a table or a page writes it: 01.12.2026 in German, 2026-12-01 in English."""
    return Text("%(day)s.%(month)s.%(year)s", **_day_parts(day))


@dataclass(frozen=True)
class Table:
    """Its texts are German msgids (labels, or :class:`Text` with values): a page shows
    them with the ``t`` filter, an export through :meth:`csv_rows` with the same
    translation, so both read alike in the reader's language."""

    slug: str
    title: str
    description: str
    row_header: str
    columns: list[str]
    rows: list[str]
    published: Published
    notes: list[str]
    """Lines under the table (median, 90th percentile), already suppressed."""

    @property
    def chart(self) -> list[tuple[str, Cell]]:
        """What the chart draws: each row's first column, or for a table of several
        columns, each column's total."""
        if len(self.columns) == 1:
            return [
                (row, cells[0]) for row, cells in zip(self.rows, self.published.cells, strict=True)
            ]
        return list(zip(self.columns, self.published.column_totals, strict=True))

    def csv_rows(self, translate: Callable[[str], str] = str) -> list[list[str]]:
        """The table exactly as shown: header, rows, the total line, the notes; its texts
        through ``translate`` (the page's translation), its numbers as they are."""
        header = [translate(self.row_header), *map(translate, self.columns)]
        body = [
            [translate(row), *(cell.shown() for cell in cells)]
            for row, cells in zip(self.rows, self.published.cells, strict=True)
        ]
        total = [translate(TOTAL), *(cell.shown() for cell in self.published.column_totals)]
        return [header, *body, total, *([translate(note)] for note in self.notes)]


def _period_label(start: date, grain: Grain) -> Text:
    if grain is Grain.DAY:
        return day_label(start)
    if grain is Grain.WEEK:
        return Text("Woche ab %(day)s.%(month)s.%(year)s", **_day_parts(start))
    return Text(MONTHS[start.month - 1], year=start.year)


def _periods(first: date, last: date, grain: Grain) -> list[date]:
    found: list[date] = []
    day = first
    while day <= last:
        start = period_of(day, grain)
        if not found or found[-1] != start:
            found.append(start)
        day = date.fromordinal(day.toordinal() + 1)
    return found


def _list_table(
    slug: str,
    title: str,
    description: str,
    row_header: str,
    values: dict[str, int],
    order: Sequence[str] | None = None,
    label: Callable[[str], str] = str,
) -> Table:
    keys = list(order) if order is not None else sorted(values, key=lambda k: (-values[k], k))
    published = suppress([[values.get(k, 0)] for k in keys], row_totals=False)
    return Table(
        slug, title, description, row_header, [COUNT], [label(k) for k in keys], published, []
    )


def _quantile_notes(histogram: dict[str, int], bounds: Sequence[int]) -> list[str]:
    if sum(histogram.values()) < THRESHOLD:
        return [
            Text(
                "Median und 90. Perzentil: weniger als %(threshold)s Werte, daher nicht gezeigt.",
                threshold=THRESHOLD,
            )
        ]
    median = quantile(histogram, 0.5, bounds)
    p90 = quantile(histogram, 0.9, bounds)
    assert median is not None and p90 is not None
    return [
        Text("Median: %(value)s", value=bucket_label(str(median), bounds)),
        Text("90. Perzentil: %(value)s", value=bucket_label(str(p90), bounds)),
    ]


def _known(key: str) -> str:
    return UNKNOWN.get(key, key)


def _answer_label(key: str) -> str:
    return USE_AGAIN_LABELS.get(key, key)


async def _survey_counts(
    db: AsyncSession, units: Iterable[int] | None, first: date, last: date
) -> dict[str, dict[str, int]]:
    """Answers per question, for the months the days touch (answers keep only a month)."""
    months = (f"{first.year:04d}-{first.month:02d}", f"{last.year:04d}-{last.month:02d}")
    found: dict[str, dict[str, int]] = {}
    for column, _title in SURVEY_QUESTIONS:
        answer = getattr(SurveyResponse, column)
        query = (
            select(answer, func.count())
            .where(
                SurveyResponse.month >= months[0],
                SurveyResponse.month <= months[1],
                answer.is_not(None),
            )
            .group_by(answer)
        )
        if units is not None:
            query = query.where(SurveyResponse.unit_id.in_(list(units)))
        found[column] = {str(value): int(n) for value, n in await db.execute(query)}
    return found


def _survey_tables(answers: dict[str, dict[str, int]]) -> list[Table]:
    return [
        _list_table(
            f"umfrage-{column.replace('_', '-')}",
            title,
            N_(
                "Antworten der Bürgerinnen und Bürger nach dem Gespräch, nach Monaten "
                "zusammengefasst (die Umfrage speichert keinen Tag)."
            ),
            N_("Antwort"),
            answers[column],
            list(USE_AGAIN_LABELS) if column == "use_again" else [str(v) for v in SCALE],
            _answer_label,
        )
        for column, title in SURVEY_QUESTIONS
    ]


async def report(
    db: AsyncSession, units: Iterable[int] | None, first: date, last: date
) -> list[Table]:
    """Every table for the days ``first`` to ``last`` (in each unit's own time zone). The
    database sums; the tables are built in a worker thread, off the event loop."""
    rows = await counts(db, units, first, last)
    answers = await _survey_counts(db, units, first, last)
    return await asyncio.to_thread(_build, rows, answers, first, last)


def _build(
    rows: list[tuple[date, str, str, int]],
    answers: dict[str, dict[str, int]],
    first: date,
    last: date,
) -> list[Table]:
    grain = grain_for(first, last)
    outcomes: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_metric: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for day, metric, key, n in rows:
        if metric == Metric.APPOINTMENTS:
            outcomes[period_of(day, grain)][key] += n
        else:
            by_metric[metric][key] += n
    return [
        _appointments_table(outcomes, _periods(first, last, grain), grain),
        *_duration_tables(by_metric),
        *_count_tables(by_metric),
        *_survey_tables(answers),
    ]


def _appointments_table(
    outcomes: dict[date, dict[str, int]], periods: list[date], grain: Grain
) -> Table:
    columns = list(OUTCOME_LABELS)
    return Table(
        "termine",
        N_("Termine"),
        N_(
            "Geplante, stattgefundene und abgesagte Termine, und Termine, zu denen die Kundin "
            "oder der Kunde nicht in den Warteraum kam, je Zeitraum."
        ),
        {Grain.DAY: N_("Tag"), Grain.WEEK: N_("Woche"), Grain.MONTH: N_("Monat")}[grain],
        [OUTCOME_LABELS[c] for c in columns],
        [_period_label(p, grain) for p in periods],
        suppress([[outcomes[p].get(c, 0) for c in columns] for p in periods], row_totals=False),
        [],
    )


def _histogram_table(
    slug: str,
    title: str,
    description: str,
    row_header: str,
    values: dict[str, int],
    bounds: Sequence[int],
) -> Table:
    table = _list_table(
        slug,
        title,
        description,
        row_header,
        values,
        [str(b) for b in bounds],
        lambda key: bucket_label(key, bounds),
    )
    return replace(table, notes=_quantile_notes(values, bounds))


def _duration_tables(by_metric: dict[str, dict[str, int]]) -> list[Table]:
    return [
        _histogram_table(
            "wartezeit",
            N_("Wartezeit bis zum Gespräch"),
            N_(
                "Wie lange Kundinnen und Kunden im Warteraum warteten, bis sie ins Gespräch "
                "geholt wurden."
            ),
            N_("Wartezeit"),
            dict(by_metric[Metric.WAITING]),
            WAIT_BUCKETS,
        ),
        _histogram_table(
            "gespraechsdauer",
            N_("Gesprächsdauer"),
            N_("Wie lange die Gespräche dauerten, von der ersten Aufnahme bis zum Ende."),
            N_("Dauer"),
            dict(by_metric[Metric.CALL_LENGTH]),
            CALL_BUCKETS,
        ),
    ]


def _count_tables(by_metric: dict[str, dict[str, int]]) -> list[Table]:
    return [
        _list_table(
            "puenktlichkeit",
            N_("Pünktlichkeit der Beratung"),
            N_(
                "Ob die Beratung die Kundin oder den Kunden spätestens fünf Minuten nach "
                "Terminbeginn ins Gespräch holte."
            ),
            N_("Beratung"),
            dict(by_metric[Metric.ADVISOR]),
            list(ADVISOR_LABELS),
            lambda key: ADVISOR_LABELS.get(key, key),
        ),
        _list_table(
            "geraetetest",
            N_("Gerätetest: Ergebnis"),
            N_("Ergebnisse der Gerätetests."),
            N_("Ergebnis"),
            dict(by_metric[Metric.VERDICT]),
            list(GRADE_LABELS),
            lambda key: GRADE_LABELS.get(key, key),
        ),
        _list_table(
            "geraetetest-gruende",
            N_("Gerätetest: Gründe"),
            N_("Was bei Gerätetests nicht grün war (ein Test kann mehrere Gründe haben)."),
            N_("Grund"),
            dict(by_metric[Metric.REASON]),
            label=lambda key: REASON_LABELS.get(key, key),
        ),
        _list_table(
            "browser",
            N_("Browser"),
            N_("Mit welchen Browsern der Gerätetest gemacht wurde."),
            N_("Browser"),
            dict(by_metric[Metric.BROWSER]),
            label=_known,
        ),
        _list_table(
            "betriebssysteme",
            N_("Betriebssysteme"),
            N_("Auf welchen Betriebssystemen der Gerätetest gemacht wurde."),
            N_("Betriebssystem"),
            dict(by_metric[Metric.SYSTEM]),
            label=_known,
        ),
        _list_table(
            "gespraechsqualitaet",
            N_("Gesprächsqualität"),
            N_(
                "Wie die Gesprächsseiten die Verbindung während der Gespräche maßen "
                "(Messungen alle paar Sekunden)."
            ),
            N_("Verbindung"),
            dict(by_metric[Metric.QUALITY]),
            list(QUALITY_LABELS),
            lambda key: QUALITY_LABELS.get(key, key),
        ),
    ]
