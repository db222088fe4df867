"""The run directory and its formats, owned in one place (stdlib only).

- layout: every file name of a run directory;
- atomic: the one atomic write (temp name beside the target, fsync, rename);
- codec: the NaN/inf value codec and small-file readers;
- records: the metrics-log record reader;
- fold: the one fold of a metrics log into a summary, and the summary file's content;
- summary: the one summary reader;
- writer: the metrics writer logx uses;
- status: the fold of status.log;
- notes: the notes a user stores with a run (`runx note`);
- config: finding the runx config file and resolving its LOGROOT.

runx.core, runx.logx and runx.sumx import these modules; none of them spells a file name of its own.
"""
