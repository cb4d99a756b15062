#include "coordinator.h"

#include "worker.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>

namespace parley::bench {

namespace {

double monotonicS()
{
    timespec ts {};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

std::int64_t monotonicNs()
{
    timespec ts {};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// The 1-minute load average and the core count: benchmark figures mean little without them
// on a machine shared with other work.
nlohmann::json machineLoad()
{
    std::ifstream in("/proc/loadavg");
    double load1 = 0;
    in >> load1;
    return { { "loadavg_1m", load1 }, { "cores", ::sysconf(_SC_NPROCESSORS_ONLN) } };
}

double round3(double v)
{
    return std::round(v * 1000.0) / 1000.0;
}

} // namespace

Coordinator::Coordinator(const Options& options)
    : m_o(options)
{
}

bool Coordinator::spawn()
{
    std::fflush(stdout);
    std::fflush(stderr);
    for (int w = 0; w < m_o.procs; ++w) {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
            std::perror("parley-loadgen: socketpair");
            return false;
        }
        const pid_t pid = ::fork();
        if (pid < 0) {
            std::perror("parley-loadgen: fork");
            return false;
        }
        if (pid == 0) {
            ::close(fds[0]);
            for (const Link& l : m_links) {
                ::close(l.fd);
            }
            Worker worker(m_o, w, fds[1]);
            const int code = worker.run();
            std::fflush(stdout);
            ::_exit(code);
        }
        ::close(fds[1]);
        Link link;
        link.pid = pid;
        link.fd = fds[0];
        m_links.push_back(std::move(link));
    }
    return true;
}

void Coordinator::broadcast(const nlohmann::json& cmd)
{
    const std::string line = cmd.dump() + "\n";
    for (Link& l : m_links) {
        if (!l.gone && ::write(l.fd, line.data(), line.size()) < 0) {
            l.gone = true;
        }
    }
}

bool Coordinator::waitUntil(const std::function<bool()>& done, double timeoutS, const char* what)
{
    const double deadline = monotonicS() + timeoutS;
    double lastProgress = monotonicS();
    while (!done()) {
        const double left = deadline - monotonicS();
        if (left <= 0) {
            if (std::string_view(what) != "settle") {
                std::fprintf(stderr, "parley-loadgen: timed out waiting for %s\n", what);
            }
            return false;
        }
        std::vector<pollfd> fds;
        for (const Link& l : m_links) {
            fds.push_back({ l.gone ? -1 : l.fd, POLLIN, 0 });
        }
        ::poll(fds.data(), fds.size(), static_cast<int>(std::min(left, 0.5) * 1000) + 1);
        for (std::size_t i = 0; i < m_links.size(); ++i) {
            Link& l = m_links[i];
            if (l.gone || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
                continue;
            }
            char buf[65536];
            const ssize_t n = ::read(l.fd, buf, sizeof buf);
            if (n <= 0) {
                l.gone = true;
                std::fprintf(stderr, "parley-loadgen: worker %zu exited early\n", i);
                return false;
            }
            l.in.append(buf, static_cast<std::size_t>(n));
            std::size_t eol = 0;
            while ((eol = l.in.find('\n')) != std::string::npos) {
                auto ev = nlohmann::json::parse(l.in.substr(0, eol), nullptr, false);
                l.in.erase(0, eol + 1);
                const std::string kind = ev.is_object() ? ev.value("ev", "") : "";
                if (kind == "progress") {
                    l.progress = ev;
                } else if (kind == "ready") {
                    l.ready = ev;
                    l.progress = ev;
                } else if (kind == "sent") {
                    l.sent = ev;
                } else if (kind == "report") {
                    l.report = ev;
                }
            }
        }
        if (!m_o.quiet && std::string_view(what) == "connections"
            && monotonicS() - lastProgress >= 2) {
            lastProgress = monotonicS();
            std::uint64_t ready = 0;
            std::uint64_t failed = 0;
            for (const Link& l : m_links) {
                ready += l.progress.value("ready", 0ull);
                failed += l.progress.value("failed", 0ull);
            }
            std::fprintf(stderr, "[%s] connecting: %llu ready, %llu failed of %d\n",
                m_o.label.c_str(), static_cast<unsigned long long>(ready),
                static_cast<unsigned long long>(failed), m_o.totalConnections());
        }
    }
    return true;
}

void Coordinator::reap()
{
    for (Link& l : m_links) {
        if (l.fd >= 0) {
            ::close(l.fd);
            l.fd = -1;
        }
        if (l.pid > 0) {
            int status = 0;
            ::waitpid(l.pid, &status, 0);
            l.pid = -1;
        }
    }
}

int Coordinator::run()
{
    const nlohmann::json loadBefore = machineLoad();
    const ProcSample before = sampleProcess(m_o.serverPid);
    if (m_o.serverPid > 0 && !before.ok) {
        std::fprintf(stderr, "parley-loadgen: cannot read /proc/%d\n", m_o.serverPid);
    }
    const double connectStart = monotonicS();
    if (!spawn()) {
        reap();
        return 3;
    }
    auto all = [this](nlohmann::json Link::*member) {
        return [this, member] {
            for (const Link& l : m_links) {
                if ((l.*member).is_null()) {
                    return false;
                }
            }
            return true;
        };
    };
    if (!waitUntil(all(&Link::ready), m_o.connectTimeoutS + 30, "connections")) {
        broadcast({ { "cmd", "exit" } });
        reap();
        return 3;
    }
    const double connectEnd = monotonicS();
    const ProcSample afterConnect = sampleProcess(m_o.serverPid);
    std::uint64_t ready = 0;
    for (const Link& l : m_links) {
        ready += l.ready.value("ready", 0ull);
    }
    if (!m_o.quiet) {
        std::fprintf(stderr, "[%s] %llu of %d connections joined in %.1f s; settling %.1f s\n",
            m_o.label.c_str(), static_cast<unsigned long long>(ready), m_o.totalConnections(),
            connectEnd - connectStart, m_o.settleS);
    }
    // Let the server finish what the joins started (presence, allocator caches) before
    // sampling its memory. Worker events keep being read meanwhile.
    waitUntil([] { return false; }, m_o.settleS, "settle");
    const ProcSample settled = sampleProcess(m_o.serverPid);

    const std::int64_t t0 = monotonicNs() + 100'000'000;
    m_t0Ns = t0;
    broadcast({ { "cmd", "go" }, { "t0", t0 } });
    const double sendSeconds = static_cast<double>(m_o.totalMessages()) / m_o.rate;
    if (!m_o.quiet) {
        std::fprintf(stderr, "[%s] %s: sending %lld messages at %.0f/s (%.1f s)\n",
            m_o.label.c_str(), m_o.workloadName(), static_cast<long long>(m_o.totalMessages()),
            m_o.rate, sendSeconds);
    }
    const bool sentOk = waitUntil(all(&Link::sent), sendSeconds + m_o.drainTimeoutS + 30, "sends");
    const double runEnd = monotonicS();
    const ProcSample afterRun = sampleProcess(m_o.serverPid);
    bool reportsOk = false;
    if (sentOk) {
        std::map<std::string, std::uint64_t> finals;
        for (const Link& l : m_links) {
            for (const auto& [room, seq] : l.sent.at("max_ack").items()) {
                finals[room] = std::max(finals[room], seq.get<std::uint64_t>());
            }
        }
        broadcast({ { "cmd", "finals" }, { "rooms", finals } });
        reportsOk = waitUntil(all(&Link::report), m_o.drainTimeoutS + 30, "reports");
    }
    broadcast({ { "cmd", "exit" } });
    reap();
    if (!reportsOk) {
        return 3;
    }

    nlohmann::json results;
    results["label"] = m_o.label;
    results["machine"] = { { "cores", loadBefore["cores"] },
        { "loadavg_1m_start", loadBefore["loadavg_1m"] },
        { "loadavg_1m_end", machineLoad()["loadavg_1m"] } };
    results["workload"] = m_o.workloadName();
    results["url"] = m_o.url;
    results["receiver_ports"] = m_o.receiverPorts;
    results["connections"] = m_o.totalConnections();
    results["rooms"] = m_o.rooms;
    results["procs"] = m_o.procs;
    results["rate_offered"] = m_o.rate;
    results["messages_planned"] = m_o.totalMessages();
    results["body_bytes"] = m_o.bodyBytes;
    results["connect"] = { { "seconds", round3(connectEnd - connectStart) },
        { "joined", ready },
        { "rate_per_s", std::round(ready / std::max(1e-9, connectEnd - connectStart)) } };
    const double t0s = static_cast<double>(t0) / 1e9;
    if (m_o.serverPid > 0) {
        // Per connection actually held (joined), not per connection planned.
        const double conns = static_cast<double>(std::max<std::uint64_t>(ready, 1));
        results["server"] = {
            { "pid", m_o.serverPid },
            { "rss_kib_before", before.rssKib },
            { "rss_kib_connected", settled.rssKib },
            { "rss_kib_after_run", afterRun.rssKib },
            { "kib_per_connection",
                round3(static_cast<double>(settled.rssKib - before.rssKib) / conns) },
            { "cpu_s_connect", round3(afterConnect.cpuSeconds - before.cpuSeconds) },
            { "cpu_s_run", round3(afterRun.cpuSeconds - settled.cpuSeconds) },
            { "cpu_util_run", round3((afterRun.cpuSeconds - settled.cpuSeconds) / std::max(1e-9, runEnd - t0s)) },
        };
    }
    bool correct = true;
    const nlohmann::json primary = merge(results, correct);
    results["ok"] = correct;

    if (!m_o.outFile.empty()) {
        std::ofstream out(m_o.outFile);
        out << results.dump(2) << "\n";
    }
    // The one-line summary.
    const auto& lat = results["latency_ms"][primary.get<std::string>()];
    std::string server;
    if (results.contains("server")) {
        char buf[160];
        std::snprintf(buf, sizeof buf, " | server cpu %.0f%% rss %.1f MiB (%.1f KiB/conn)",
            results["server"]["cpu_util_run"].get<double>() * 100,
            results["server"]["rss_kib_connected"].get<long>() / 1024.0,
            results["server"]["kib_per_connection"].get<double>());
        server = buf;
    }
    std::printf("%s %s conns=%d rooms=%d rate=%.0f/s | %s ms p50=%.3f p90=%.3f p99=%.3f "
                "p99.9=%.3f max=%.3f (n=%llu) | %.0f deliveries/s | connect %.0f/s%s | errors %llu | %s\n",
        m_o.label.c_str(), m_o.workloadName(), m_o.totalConnections(), m_o.rooms, m_o.rate,
        primary.get<std::string>().c_str(), lat["p50"].get<double>(), lat["p90"].get<double>(),
        lat["p99"].get<double>(), lat["p99_9"].get<double>(), lat["max"].get<double>(),
        static_cast<unsigned long long>(lat["count"].get<std::uint64_t>()),
        results["deliveries_per_s"].get<double>(), results["connect"]["rate_per_s"].get<double>(),
        server.c_str(), static_cast<unsigned long long>(results["error_count"].get<std::uint64_t>()),
        correct ? "OK" : "FAILED");
    if (!correct) {
        std::fprintf(stderr, "parley-loadgen: correctness errors: %s\n", results["errors"].dump().c_str());
        for (const auto& s : results["error_samples"]) {
            std::fprintf(stderr, "  %s\n", s.get<std::string>().c_str());
        }
    }
    std::fflush(stdout);
    return correct ? 0 : 1;
}

nlohmann::json Coordinator::merge(nlohmann::json& results, bool& correct)
{
    LatencyHistogram delivery;
    LatencyHistogram self;
    LatencyHistogram ack;
    std::map<std::uint64_t, std::pair<std::uint64_t, std::int64_t>> fanout;
    std::map<std::string, std::uint64_t> errors;
    std::map<std::string, std::uint64_t> other;
    nlohmann::json samples = nlohmann::json::array();
    std::uint64_t sent = 0, acked = 0, unacked = 0, deliveries = 0, missing = 0, dups = 0;
    std::uint64_t failed = 0;
    std::int64_t lastDelivery = 0, maxLag = 0;
    for (const Link& l : m_links) {
        const auto& r = l.report;
        delivery.merge(LatencyHistogram::fromJson(r["delivery"]));
        self.merge(LatencyHistogram::fromJson(r["self"]));
        ack.merge(LatencyHistogram::fromJson(r["ack"]));
        for (const auto& f : r["fanout"]) {
            auto& slot = fanout[f[0].get<std::uint64_t>()];
            slot.first += f[1].get<std::uint64_t>();
            slot.second = std::max(slot.second, f[2].get<std::int64_t>());
        }
        for (const auto& [k, v] : r["errors"].items()) {
            errors[k] += v.get<std::uint64_t>();
        }
        for (const auto& [k, v] : r["other_frames"].items()) {
            other[k] += v.get<std::uint64_t>();
        }
        for (const auto& s : r["error_samples"]) {
            if (samples.size() < 20) {
                samples.push_back(s);
            }
        }
        sent += r["sent"].get<std::uint64_t>();
        acked += r["acked"].get<std::uint64_t>();
        unacked += r["unacked"].get<std::uint64_t>();
        deliveries += r["deliveries"].get<std::uint64_t>();
        missing += r["missing"].get<std::uint64_t>();
        dups += r["duplicates_or_reordered"].get<std::uint64_t>();
        failed += r["failed_total"].get<std::uint64_t>();
        lastDelivery = std::max(lastDelivery, r["last_delivery_ns"].get<std::int64_t>());
        maxLag = std::max(maxLag, r["max_send_lag_ns"].get<std::int64_t>());
    }
    LatencyHistogram lastMember;
    for (const auto& [msgNo, slot] : fanout) {
        lastMember.record(slot.second);
    }
    if (missing) {
        errors["missing_deliveries"] += missing;
    }
    if (dups) {
        errors["duplicate_or_reordered_deliveries"] += dups;
    }
    if (unacked) {
        errors["unacked_sends"] += unacked;
    }
    std::uint64_t errorCount = 0;
    for (const auto& [k, v] : errors) {
        errorCount += v;
    }
    correct = errorCount == 0 && failed == 0 && sent == static_cast<std::uint64_t>(m_o.totalMessages());

    results["sent"] = sent;
    results["acked"] = acked;
    results["deliveries"] = deliveries;
    results["missing"] = missing;
    results["duplicates_or_reordered"] = dups;
    results["connections_failed"] = failed;
    results["max_send_lag_ms"] = round3(maxLag / 1e6);
    // Deliveries per second over the sending window, or until the last delivery if that came
    // later (a server that falls behind delivers over a longer time than it was offered).
    const double seconds = std::max(static_cast<double>(m_o.totalMessages()) / m_o.rate,
        static_cast<double>(lastDelivery - m_t0Ns) / 1e9);
    results["deliveries_per_s"] = std::round(deliveries / std::max(seconds, 1e-9));
    results["latency_ms"] = { { "delivery", delivery.summaryMs() }, { "echo", self.summaryMs() },
        { "ack", ack.summaryMs() } };
    std::string primary = "delivery";
    if (m_o.workload == Workload::Fanout) {
        results["latency_ms"]["last_member"] = lastMember.summaryMs();
        primary = "last_member";
    } else if (m_o.workload == Workload::Idle) {
        primary = self.count() > 0 ? "echo" : "ack";
    }
    results["primary"] = primary;
    results["histograms"] = { { "delivery", delivery.toJson() }, { "echo", self.toJson() },
        { "ack", ack.toJson() }, { "last_member", lastMember.toJson() } };
    results["errors"] = errors;
    results["error_count"] = errorCount;
    results["error_samples"] = samples;
    results["other_frames"] = other;
    const LatencyHistogram& h = primary == "delivery" ? delivery
        : primary == "echo"                         ? self
        : primary == "ack"                          ? ack
                                                    : lastMember;
    writePlotData(h);
    return primary;
}

void Coordinator::writePlotData(const LatencyHistogram& h) const
{
    if (m_o.plotFile.empty() || h.count() == 0) {
        return;
    }
    std::ofstream out(m_o.plotFile);
    out << "# percentile  1/(1-p)  latency_ms   (" << m_o.label << ", " << m_o.workloadName()
        << ")\n";
    // Percentiles ever closer to 100, as HdrHistogram plots them: 0, 50, 75, 87.5, ...
    for (int k = 0; k <= 40; ++k) {
        const double p = 100.0 * (1.0 - std::pow(0.5, k / 2.0));
        if (p > 100.0 * (1.0 - 1.0 / static_cast<double>(h.count()))) {
            break;
        }
        out << p << " " << 1.0 / (1.0 - p / 100.0) << " " << h.valueAtPercentile(p) / 1e6 << "\n";
    }
    const double pmax = 100.0 * (1.0 - 1.0 / (2.0 * static_cast<double>(h.count())));
    out << pmax << " " << 1.0 / (1.0 - pmax / 100.0) << " " << h.max() / 1e6 << "\n";
}

} // namespace parley::bench
