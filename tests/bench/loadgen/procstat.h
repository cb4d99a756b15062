// CPU time and resident memory of another process, read from /proc/<pid>.
#pragma once

namespace parley::bench {

struct ProcSample {
    bool ok = false;
    double cpuSeconds = 0; //!< user + system time so far
    long rssKib = 0; //!< VmRSS
};

ProcSample sampleProcess(int pid);

} // namespace parley::bench
