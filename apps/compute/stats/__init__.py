"""VM and host usage over time, for the graphs: computed by the monitor from the counters its bulk
call brings each tick and kept as rolling series in Redis (apps/core/series).

- metrics.py: what a VM's series hold, from two ticks' counters;
- recorder.py: the monitor's tick (writes, downsampling, the live signal);
- busiest.py: the fleet's busiest VMs over the last quarter hour;
- reads.py: what the pages read (a graph's data, the VM list's sparklines).
"""
