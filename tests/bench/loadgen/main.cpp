// parley-loadgen: a load generator for Parley's WebSocket protocol (see docs/benchmarks.md).
#include "coordinator.h"
#include "options.h"

#include <sys/resource.h>

#include <csignal>

int main(int argc, char** argv)
{
    auto options = parley::bench::parseOptions(argc, argv);
    if (!options) {
        return 2;
    }
    // Every connection is a file: take the whole hard limit (20,000 here; not raisable).
    rlimit limit {};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
    std::signal(SIGPIPE, SIG_IGN);
    parley::bench::Coordinator coordinator(*options);
    return coordinator.run();
}
