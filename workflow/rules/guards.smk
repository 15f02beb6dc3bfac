# Up-front guards that run while the DAG is built, before any job starts
# (e.g. refusing a paper-scale config whose memory estimate exceeds this machine).
