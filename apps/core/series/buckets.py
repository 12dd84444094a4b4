"""Downsampling: a period's average, minimum and maximum per field, built up one sample at a time
(the monitor keeps the buckets in progress in memory, so a coarse record costs no read-back).

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

    def add(self, values):
        """One sample; NaN (no value this time) counts for nothing."""
        sums, counts, mins, maxs = self.sums, self.counts, self.mins, self.maxs
        for i, v in enumerate(values):
            if v == v:
                sums[i] += v
                counts[i] += 1
                if v < mins[i]:
                    mins[i] = v
                if v > maxs[i]:
                    maxs[i] = v

    def merge(self, other):
        for i in range(len(self.sums)):
            self.sums[i] += other.sums[i]
            self.counts[i] += other.counts[i]
            self.mins[i] = min(self.mins[i], other.mins[i])
            self.maxs[i] = max(self.maxs[i], other.maxs[i])

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
