// Command line of parley-loadgen, and the plan every worker derives from it: which global
// connection indexes it owns, which room each connection joins, who sends and how much.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace parley::bench {

enum class Workload { Idle, Fanout, Chat };

struct Options {
    Workload workload = Workload::Chat;
    std::string url;
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    std::string path = "/v1/ws";
    //! Chat across nodes (--receiver-url, repeatable): the ports of the receivers' servers (same
    //! host and path as --url). Then each room's first member connects to --url and is the
    //! room's only sender; the other members connect to these, round robin, so every `delivery`
    //! sample crosses from the sender's server to another one.
    std::vector<std::uint16_t> receiverPorts;

    int connections = 0; //!< members (idle: idle connections; the echo connection is extra)
    int rooms = 0;
    double rate = 0; //!< messages per second offered, in total
    double durationS = 10;
    std::int64_t messages = 0; //!< total messages to send; 0 = rate * duration
    int procs = 0;
    double connectRate = 2000; //!< new connections per second, in total
    int maxPendingConnects = 512; //!< per process, connections not yet joined
    int srcAddrs = 4; //!< source addresses 127.0.0.1 .. 127.0.0.N
    int bodyBytes = 100;
    int serverPid = 0;
    std::string outFile;
    std::string plotFile;
    std::string label;
    std::string runId;
    double settleS = 2;
    double drainTimeoutS = 10;
    double connectTimeoutS = 120;
    bool quiet = false;

    //! Total connections including the idle workload's extra echo connection.
    int totalConnections() const { return connections + (workload == Workload::Idle ? 1 : 0); }
    //! Room index of a global connection index.
    int roomOf(int connection) const;
    //! Whether that connection sends messages in the run phase.
    bool isSender(int connection) const;
    int senderCount() const;
    //! Chat with --receiver-url.
    bool crossNode() const { return workload == Workload::Chat && !receiverPorts.empty(); }
    //! The first global connection index of room r.
    int firstOfRoom(int room) const;
    //! The server port connection `connection` connects to.
    std::uint16_t portOf(int connection) const;
    std::int64_t totalMessages() const;
    //! Global connection indexes [first, last) owned by worker w.
    int firstOf(int worker) const;
    int lastOf(int worker) const;
    //! Messages worker w sends (its senders' share of totalMessages()).
    std::int64_t messagesOf(int worker) const;
    std::string roomName(int room) const;
    std::string userName(int connection) const;
    const char* workloadName() const;
};

//! Parses argv; on error prints the reason and the usage to stderr and returns nullopt.
std::optional<Options> parseOptions(int argc, char** argv);

} // namespace parley::bench
