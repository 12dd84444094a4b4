"""Rolling time series in Redis, for the graphs: a fixed-size ring of packed records per object and
resolution, written once per monitor tick and read whole by a graph.

- encoding.py: the records (a timestamp and 16-bit floats) and what they mean;
- buckets.py: the averages with min and max that the coarser resolutions keep;
- store.py: the rings in Redis (keys, slots, writing in a pipeline, reading a time range).

Nothing here knows VMs or hosts: the monitor's recorders (apps/compute/stats) say which fields a
series has and when to write.
"""
