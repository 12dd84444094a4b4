"""The series' pieces on their own: records packed as half floats, and the downsampler."""

import math

from apps.core.series.buckets import Bucket, merged
from apps.core.series.encoding import Field, GiB, Layout, MiB

LAYOUT = Layout(Field("cpu"), Field("memory", GiB), Field("disk", MiB))


def close(a, b, rel=2e-3):
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


def test_a_point_keeps_three_significant_digits_in_each_fields_unit():
    record = LAYOUT.pack_point(1_700_000_000.25, [42.5, 3.2 * GiB, 150 * 1024])
    assert len(record) == 4 + 2 + 3 * 2
    [(ts, values)] = list(LAYOUT.points(record))
    assert ts == 1_700_000_000.25
    assert close(values[0], 42.5) and close(values[1], 3.2 * GiB) and close(values[2], 150 * 1024)


def test_a_missing_value_stays_missing_and_a_huge_one_is_clamped():
    [(_ts, values)] = list(LAYOUT.points(LAYOUT.pack_point(1_700_000_000, [math.nan, None, 1e20])))
    assert math.isnan(values[0]) and math.isnan(values[1])
    assert values[2] == 65504 * MiB


def test_an_unwritten_slot_is_no_record():
    blob = bytes(LAYOUT.point.size) + LAYOUT.pack_point(1_700_000_000, [1, 2, 3])
    assert [ts for ts, _ in LAYOUT.points(blob)] == [1_700_000_000]


def test_the_downsampler_keeps_the_average_and_the_extremes():
    samples = [LAYOUT.pack_point(600 + 2 * i, [cpu, 1.0 * GiB, math.nan]) for i, cpu in enumerate((10, 90, 20, 40))]
    bucket = Bucket.of(600, 3, LAYOUT.point_columns(b"".join(samples)))
    assert bucket.averages()[0] == 40.0
    assert (bucket.minima()[0], bucket.maxima()[0]) == (10.0, 90.0)
    assert math.isnan(bucket.averages()[2]) and math.isnan(bucket.minima()[2])  # never measured
    [(start, avg, lo, hi)] = list(LAYOUT.buckets(LAYOUT.pack_summary(bucket)))
    assert start == 600 and (avg[0], lo[0], hi[0]) == (40.0, 10.0, 90.0)
    assert avg[1] == lo[1] == hi[1] == GiB


def test_merged_minutes_make_the_quarter_of_their_raw_samples():
    minutes = [
        Bucket.of(start, 1, [samples]) for start, samples in ((0, (5.0, 7.0)), (60, (1.0,)), (120, (99.0, 3.0, 2.0)))
    ]
    quarter = merged(minutes, 0, 1)
    assert quarter.averages() == [sum((5, 7, 1, 99, 3, 2)) / 6]
    assert (quarter.minima(), quarter.maxima()) == ([1.0], [99.0])
