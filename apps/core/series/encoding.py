"""Records as fixed-width bytes: a timestamp, then one IEEE half-precision float per value.

Half floats keep about three significant digits, which is what a graph shows, in two bytes. Their
range (up to 65504) is fitted to each field by a scale: bytes per second are stored in MiB/s, memory
in GiB, operations per second in thousands, so from a few bytes to tens of GiB per second fit. A
value libvirt did not give (or a counter that went backwards) is NaN, which JSON carries as null.
"""

import math
import struct
from dataclasses import dataclass

HALF_MAX = 65504.0
KiB, MiB, GiB = 1024, 1024**2, 1024**3


@dataclass(frozen=True)
class Field:
    name: str
    scale: float = 1.0  # stored = value / scale


class Layout:
    """The fields of one kind of series, in order, and the two record formats: a point (one sample
    at full resolution: seconds, milliseconds, values) and a bucket (a downsampled period: its
    start, then the averages, the minima and the maxima)."""

    def __init__(self, *fields: Field):
        self.fields = fields
        self.names = tuple(f.name for f in fields)
        self.scales = tuple(f.scale for f in fields)
        self.inverse = tuple(1 / f.scale for f in fields)
        n = len(fields)
        self.point = struct.Struct(f"<IH{n}e")
        self.bucket = struct.Struct(f"<I{3 * n}e")
        self.plain = struct.Struct(f"<{n}e")  # values alone, for a summary kept elsewhere

    def stored(self, values):
        """Values in their units as the half floats' inputs: scaled, clamped, NaN kept."""
        out = []
        for v, scale in zip(values, self.scales, strict=True):
            if v is None or v != v:
                out.append(math.nan)
                continue
            v /= scale
            out.append(HALF_MAX if v > HALF_MAX else -HALF_MAX if v < -HALF_MAX else v)
        return out

    def pack_point(self, ts, values):
        """A full-resolution record of values in their units."""
        seconds, millis = int(ts), int((ts - int(ts)) * 1000)
        try:  # the usual case, at C speed: every value fits a half float (NaN does)
            return self.point.pack(seconds, millis, *[v * k for v, k in zip(values, self.inverse, strict=True)])
        except (OverflowError, TypeError, struct.error):
            return self.point.pack(seconds, millis, *self.stored(values))

    def point_columns(self, blob):
        """The values of a string of points (no empty slots), in stored units, a column per field."""
        columns = zip(*self.point.iter_unpack(blob), strict=True)
        next(columns, None), next(columns, None)  # the seconds and the milliseconds
        return columns

    def pack_summary(self, bucket):
        """A downsampled record of a Bucket of stored values (buckets.py)."""
        return self.bucket.pack(int(bucket.start), *bucket.averages(), *bucket.minima(), *bucket.maxima())

    def pack_stored(self, values):
        """Values already in stored units, alone (a summary kept elsewhere)."""
        return self.plain.pack(*values)

    def pack_bucket(self, start, averages, minima, maxima):
        """A downsampled record of values in their units."""
        return self.bucket.pack(int(start), *self.stored(averages), *self.stored(minima), *self.stored(maxima))

    def unpack_values(self, blob):
        """{name: value in its unit} of pack_stored's bytes."""
        return {n: v * s for n, v, s in zip(self.names, self.plain.unpack(blob), self.scales, strict=True)}

    def points(self, blob):
        """(ts, values in their units) for each written record of a ring of points."""
        scales = self.scales
        for seconds, millis, *values in self.point.iter_unpack(blob):
            if seconds:
                yield seconds + millis / 1000, [v * s for v, s in zip(values, scales, strict=True)]

    def buckets(self, blob):
        """(start, averages, minima, maxima) in their units for each written record of a ring of
        buckets."""
        n, scales = len(self.fields), self.scales * 3
        for start, *values in self.bucket.iter_unpack(blob):
            if start:
                values = [v * s for v, s in zip(values, scales, strict=True)]
                yield start, values[:n], values[n : 2 * n], values[2 * n :]
