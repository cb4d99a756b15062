// The parent process of a load generator run: forks the worker processes (each owns a slice of
// the connections, so no process passes the per-process file limit), drives their phases in
// lock step, samples the server's CPU and RSS between phases, merges the workers' histograms
// and correctness counters, and writes the results (JSON, plot data, one summary line).
#pragma once

#include "latencyhistogram.h"
#include "options.h"
#include "procstat.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace parley::bench {

class Coordinator {
public:
    explicit Coordinator(const Options& options);
    //! Returns the process exit code: 0 all correct, 1 errors found, 3 could not run.
    int run();

private:
    struct Link {
        pid_t pid = -1;
        int fd = -1;
        std::string in;
        bool gone = false;
        nlohmann::json progress;
        nlohmann::json ready;
        nlohmann::json sent;
        nlohmann::json report;
    };

    bool spawn();
    //! Reads worker events until done() holds or timeoutS passes; false on timeout or a lost
    //! worker.
    bool waitUntil(const std::function<bool()>& done, double timeoutS, const char* what);
    void broadcast(const nlohmann::json& cmd);
    void reap();
    nlohmann::json merge(nlohmann::json& results, bool& correct);
    void writePlotData(const LatencyHistogram& h) const;

    const Options& m_o;
    std::vector<Link> m_links;
    std::int64_t m_t0Ns = 0; //!< CLOCK_MONOTONIC when sending starts
};

} // namespace parley::bench
