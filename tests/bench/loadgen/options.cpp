#include "options.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string_view>

namespace parley::bench {

namespace {

const char* kUsage = R"(Usage: parley-loadgen --url ws://127.0.0.1:PORT/v1/ws [options]

Opens N WebSocket connections to a Parley server (or the Node peer), says hello, joins rooms and
runs a workload; every delivery's end-to-end latency goes into a histogram. Exits 1 on protocol
errors, missing, duplicate or out-of-order deliveries, 2 on bad usage.

  --workload idle|fanout|chat  (default chat)
      idle:   N connections hello + join rooms of 10 and stay idle; one extra connection sends
              into its own room at --rate and times its own delivery (echo) and ack.
      fanout: one room of N members; member 0 sends at --rate; per message, the time from send
              to the last member's receipt.
      chat:   N connections in --rooms rooms, all send, --rate messages/s in total.
  --receiver-url URL    chat across servers (repeatable; same host and path as --url): each
                        room's first member connects to --url and is its only sender, the other
                        members connect to the receiver URLs in turn
  --connections N       members (defaults: idle 1000, fanout 1000, chat 5000)
  --rooms R             (defaults: idle N/10, fanout 1, chat 500)
  --rate R              messages/s offered in total (defaults: idle 100, fanout 2, chat 2000)
  --duration S          seconds of sending (default 10)
  --messages M          send exactly M messages in total instead (at --rate)
  --procs P             load generator processes (default: one per 10,000 connections)
  --connect-rate R      new connections per second in total (default 2000)
  --src-addrs K         spread connections over source addresses 127.0.0.1..127.0.0.K (default 4)
  --body-bytes B        size of each message body (default 100, at least 48)
  --server-pid PID      sample the server's CPU time and RSS from /proc/PID
  --out FILE            write the results as JSON
  --plot-data FILE      write "percentile latency_ms" lines of the main histogram (for gnuplot)
  --label NAME          name of the server under test, for the summary (e.g. parleyd, peer)
  --settle S            seconds to wait after connecting before sampling RSS (default 2)
  --drain-timeout S     seconds to wait for outstanding acks and deliveries (default 10)
  --connect-timeout S   seconds allowed for all connections to join (default 120)
  --run-id ID           prefix of user and room names (default: random)
  --quiet               only the summary line
)";

bool parseNumber(const char* s, double& out)
{
    char* end = nullptr;
    out = std::strtod(s, &end);
    return end != s && *end == '\0' && std::isfinite(out);
}

bool parseUrl(Options& o)
{
    std::string_view u = o.url;
    constexpr std::string_view scheme = "ws://";
    if (u.substr(0, scheme.size()) != scheme) {
        std::fprintf(stderr, "parley-loadgen: only ws:// URLs are supported\n");
        return false;
    }
    u.remove_prefix(scheme.size());
    const auto slash = u.find('/');
    const std::string_view hostPort = u.substr(0, slash);
    o.path = slash == std::string_view::npos ? "/" : std::string(u.substr(slash));
    const auto colon = hostPort.rfind(':');
    if (colon == std::string_view::npos) {
        std::fprintf(stderr, "parley-loadgen: the URL needs a port\n");
        return false;
    }
    o.host = std::string(hostPort.substr(0, colon));
    const int port = std::atoi(std::string(hostPort.substr(colon + 1)).c_str());
    if (port <= 0 || port > 65535) {
        std::fprintf(stderr, "parley-loadgen: bad port in URL\n");
        return false;
    }
    o.port = static_cast<std::uint16_t>(port);
    // A load generator must never be pointed at someone else's machine by a typo.
    if (o.host.rfind("127.", 0) != 0) {
        std::fprintf(stderr, "parley-loadgen: only 127.0.0.0/8 targets are allowed\n");
        return false;
    }
    return true;
}

} // namespace

int Options::roomOf(int connection) const
{
    if (workload == Workload::Idle && connection == connections) {
        return rooms; // the echo connection's own room
    }
    return static_cast<int>(static_cast<std::int64_t>(connection) * rooms / connections);
}

bool Options::isSender(int connection) const
{
    switch (workload) {
    case Workload::Idle: return connection == connections;
    case Workload::Fanout: return connection == 0;
    case Workload::Chat:
        return !crossNode() || connection == firstOfRoom(roomOf(connection));
    }
    return false;
}

int Options::senderCount() const
{
    if (workload != Workload::Chat) {
        return 1;
    }
    return crossNode() ? rooms : connections;
}

int Options::firstOfRoom(int room) const
{
    // The smallest c with c * rooms / connections >= room (see roomOf()).
    return static_cast<int>((static_cast<std::int64_t>(room) * connections + rooms - 1) / rooms);
}

std::uint16_t Options::portOf(int connection) const
{
    if (!crossNode()) {
        return port;
    }
    const int member = connection - firstOfRoom(roomOf(connection));
    if (member == 0) {
        return port;
    }
    return receiverPorts[static_cast<std::size_t>(member - 1) % receiverPorts.size()];
}

std::int64_t Options::totalMessages() const
{
    if (messages > 0) {
        return messages;
    }
    return static_cast<std::int64_t>(std::llround(rate * durationS));
}

int Options::firstOf(int worker) const
{
    return static_cast<int>(static_cast<std::int64_t>(totalConnections()) * worker / procs);
}

int Options::lastOf(int worker) const
{
    return firstOf(worker + 1);
}

std::int64_t Options::messagesOf(int worker) const
{
    int before = 0;
    int mine = 0;
    for (int c = 0; c < lastOf(worker); ++c) {
        if (isSender(c)) {
            (c < firstOf(worker) ? before : mine) += 1;
        }
    }
    const std::int64_t total = totalMessages();
    const int senders = senderCount();
    return total * (before + mine) / senders - total * before / senders;
}

std::string Options::roomName(int room) const
{
    if (workload == Workload::Idle && room == rooms) {
        return "lg" + runId + "-echo";
    }
    return "lg" + runId + "-r" + std::to_string(room);
}

std::string Options::userName(int connection) const
{
    return "lg" + runId + "-u" + std::to_string(connection);
}

const char* Options::workloadName() const
{
    switch (workload) {
    case Workload::Idle: return "idle";
    case Workload::Fanout: return "fanout";
    case Workload::Chat: return "chat";
    }
    return "?";
}

std::optional<Options> parseOptions(int argc, char** argv)
{
    Options o;
    bool rateSet = false;
    std::vector<std::string> receiverUrls;
    auto bad = [](const char* why, const char* arg) {
        std::fprintf(stderr, "parley-loadgen: %s%s%s\n\n%s", why, arg ? ": " : "", arg ? arg : "",
            kUsage);
        return std::nullopt;
    };
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--help" || a == "-h") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        }
        if (a == "--quiet") {
            o.quiet = true;
            continue;
        }
        if (i + 1 >= argc) {
            return bad("missing value for", argv[i]);
        }
        const char* v = argv[++i];
        double d = 0;
        const bool numeric = parseNumber(v, d);
        auto needNumber = [&](double min) { return numeric && d >= min; };
        if (a == "--url") {
            o.url = v;
        } else if (a == "--receiver-url") {
            receiverUrls.emplace_back(v);
        } else if (a == "--workload") {
            const std::string_view w = v;
            if (w == "idle") {
                o.workload = Workload::Idle;
            } else if (w == "fanout") {
                o.workload = Workload::Fanout;
            } else if (w == "chat") {
                o.workload = Workload::Chat;
            } else {
                return bad("unknown workload", v);
            }
        } else if (a == "--out") {
            o.outFile = v;
        } else if (a == "--plot-data") {
            o.plotFile = v;
        } else if (a == "--label") {
            o.label = v;
        } else if (a == "--run-id") {
            o.runId = v;
        } else if (!numeric) {
            return bad("not a number", v);
        } else if (a == "--connections" && needNumber(1)) {
            o.connections = static_cast<int>(d);
        } else if (a == "--rooms" && needNumber(1)) {
            o.rooms = static_cast<int>(d);
        } else if (a == "--rate" && needNumber(0.001)) {
            o.rate = d;
            rateSet = true;
        } else if (a == "--duration" && needNumber(0.1)) {
            o.durationS = d;
        } else if (a == "--messages" && needNumber(1)) {
            o.messages = static_cast<std::int64_t>(d);
        } else if (a == "--procs" && needNumber(1)) {
            o.procs = static_cast<int>(d);
        } else if (a == "--connect-rate" && needNumber(1)) {
            o.connectRate = d;
        } else if (a == "--src-addrs" && needNumber(1) && d <= 254) {
            o.srcAddrs = static_cast<int>(d);
        } else if (a == "--body-bytes" && needNumber(48) && d <= 15000) {
            o.bodyBytes = static_cast<int>(d);
        } else if (a == "--server-pid" && needNumber(1)) {
            o.serverPid = static_cast<int>(d);
        } else if (a == "--settle" && needNumber(0)) {
            o.settleS = d;
        } else if (a == "--drain-timeout" && needNumber(0.1)) {
            o.drainTimeoutS = d;
        } else if (a == "--connect-timeout" && needNumber(1)) {
            o.connectTimeoutS = d;
        } else {
            return bad("unknown option or value out of range", argv[i - 1]);
        }
    }
    if (o.url.empty()) {
        return bad("--url is required", nullptr);
    }
    if (!parseUrl(o)) {
        return std::nullopt;
    }
    for (const std::string& url : receiverUrls) {
        Options receiver;
        receiver.url = url;
        if (!parseUrl(receiver)) {
            return std::nullopt;
        }
        if (receiver.host != o.host || receiver.path != o.path) {
            return bad("--receiver-url must differ from --url only in the port", url.c_str());
        }
        o.receiverPorts.push_back(receiver.port);
    }
    if (!o.receiverPorts.empty() && o.workload != Workload::Chat) {
        return bad("--receiver-url is for the chat workload", nullptr);
    }
    if (o.connections == 0) {
        o.connections = o.workload == Workload::Chat ? 5000 : 1000;
    }
    if (o.rooms == 0) {
        o.rooms = o.workload == Workload::Fanout ? 1
            : o.workload == Workload::Chat       ? std::max(1, std::min(500, o.connections / 10))
                                                 : std::max(1, o.connections / 10);
    }
    if (o.workload == Workload::Fanout) {
        o.rooms = 1;
    }
    if (o.rooms > o.connections) {
        return bad("--rooms cannot exceed --connections", nullptr);
    }
    if (!rateSet) {
        o.rate = o.workload == Workload::Idle ? 100 : o.workload == Workload::Fanout ? 2 : 2000;
    }
    if (o.procs == 0) {
        o.procs = std::max(1, (o.totalConnections() + 9999) / 10000);
    }
    o.procs = std::min(o.procs, o.totalConnections());
    // Each process keeps every connection's socket open: stay under the per-process file limit.
    if (o.totalConnections() / o.procs > 19000) {
        return bad("more than 19,000 connections per process: raise --procs", nullptr);
    }
    if (o.runId.empty()) {
        std::random_device rd;
        char buf[16];
        std::snprintf(buf, sizeof buf, "%06x", rd() & 0xFFFFFF);
        o.runId = buf;
    }
    if (o.label.empty()) {
        o.label = "server";
    }
    return o;
}

} // namespace parley::bench
