#include "procstat.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace parley::bench {

ProcSample sampleProcess(int pid)
{
    ProcSample s;
    if (pid <= 0) {
        return s;
    }
    const std::string dir = "/proc/" + std::to_string(pid);
    std::ifstream stat(dir + "/stat");
    std::string line;
    if (!std::getline(stat, line)) {
        return s;
    }
    // Field 2 (comm) may contain spaces and parentheses: parse after the last ')'.
    const auto close = line.rfind(')');
    if (close == std::string::npos) {
        return s;
    }
    std::istringstream fields(line.substr(close + 2));
    std::string skip;
    for (int field = 3; field < 14; ++field) {
        fields >> skip;
    }
    unsigned long long utime = 0;
    unsigned long long stime = 0;
    fields >> utime >> stime;
    const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    s.cpuSeconds = static_cast<double>(utime + stime) / ticks;

    std::ifstream status(dir + "/status");
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            s.rssKib = std::stol(line.substr(6));
            s.ok = true;
            break;
        }
    }
    return s;
}

} // namespace parley::bench
