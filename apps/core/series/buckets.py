"""Downsampling: a period's average, minimum and maximum per field.

The monitor keeps the packed points of the minute in progress (a few hundred bytes per VM) and
turns them into a bucket when the minute ends, with the C-level sum, min and max of each column:
nothing per sample per field in Python, and no read-back from Redis. Values stay in the fields'
stored units (apps/core/series/encoding.py) throughout.

A bucket merges into a bigger one exactly (sums and counts add, extremes compare), so a quarter of
an hour is made from its minute buckets, and its min and max are still those of the raw samples.
"""

import math

INF = math.inf


class Bucket:
    __slots__ = ("start", "sums", "counts", "mins", "maxs")

    def __init__(self, start, width):
        self.start = start
        self.sums = [0.0] * width
        self.counts = [0] * width
        self.mins = [INF] * width
        self.maxs = [-INF] * width

    @classmethod
    def of(cls, start, width, columns):
        """The bucket of some samples, given as one column of values per field (NaN: no value)."""
        bucket = cls(start, width)
        for i, column in enumerate(columns):
            total = sum(column)
            if total != total:  # a NaN among them (the usual column has none: no second pass)
                column = [v for v in column if v == v]
                if not column:
                    continue
                total = sum(column)
            bucket.sums[i], bucket.counts[i] = total, len(column)
            bucket.mins[i], bucket.maxs[i] = min(column), max(column)
        return bucket

    def merge(self, other):
        sums, counts, mins, maxs = self.sums, self.counts, self.mins, self.maxs
        for i, (s, c, lo, hi) in enumerate(zip(other.sums, other.counts, other.mins, other.maxs, strict=True)):
            sums[i] += s
            counts[i] += c
            if lo < mins[i]:
                mins[i] = lo
            if hi > maxs[i]:
                maxs[i] = hi

    @property
    def empty(self):
        return not any(self.counts)

    def averages(self):
        return [s / c if c else math.nan for s, c in zip(self.sums, self.counts, strict=True)]

    def minima(self):
        return [m if m != INF else math.nan for m in self.mins]

    def maxima(self):
        return [m if m != -INF else math.nan for m in self.maxs]


def merged(buckets, start, width):
    """One bucket holding all of these."""
    total = Bucket(start, width)
    for bucket in buckets:
        total.merge(bucket)
    return total
