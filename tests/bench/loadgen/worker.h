// One load generator process: owns a slice of the connections on one epoll loop and runs the
// phases the coordinator drives over a control socket (newline-delimited JSON):
//   connect + hello + join  -> {"ev":"ready"}      <- {"cmd":"go","t0":ns}
//   send at the paced rate, wait for acks           -> {"ev":"sent","max_ack":{room:seq}}
//   <- {"cmd":"finals","rooms":{room:seq}}: wait until every member has every seq
//   -> {"ev":"report",...}                          <- {"cmd":"exit"}
// Every timestamp is CLOCK_MONOTONIC, which all processes on the machine share, so a receiver in
// one process can time a message sent by another.
#pragma once

#include "framescanner.h"
#include "latencyhistogram.h"
#include "options.h"
#include "seqcheck.h"
#include "wsconnection.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace parley::bench {

class Worker : private WsConnection::Listener {
public:
    Worker(const Options& options, int index, int controlFd);
    //! Runs until the coordinator says exit (or the control socket closes). Returns 0.
    int run();

private:
    enum class Phase { Connecting, WaitGo, Sending, Draining, WaitFinals, Verifying, WaitExit,
        Exit };
    enum class Step { NotStarted, Connecting, Welcome, Joining, Ready, Failed };

    struct Member {
        WsConnection ws;
        int global = 0;
        int room = 0;
        Step step = Step::NotStarted;
        SeqCheck seq;
        std::string epoch;
        std::int64_t nextHeartbeatNs = 0;
        std::int64_t heartbeatNs = 0;
    };
    struct PendingSend {
        std::int64_t sendNs = 0;
        std::uint32_t member = 0;
    };
    struct FanoutRecord {
        std::uint32_t receipts = 0;
        std::int64_t lastNs = 0; //!< latency of the latest receipt
    };

    void onOpen(WsConnection& c) override;
    void onText(WsConnection& c, std::string_view text, std::int64_t nowNs) override;
    void onFailed(WsConnection& c) override;

    void handleWelcome(Member& m, std::int64_t nowNs);
    void handleJoined(Member& m);
    void handleMessage(Member& m, std::int64_t nowNs);
    void handleAck(Member& m, std::int64_t nowNs);
    void handleError(Member& m);

    void tick(std::int64_t nowNs);
    void startConnects(std::int64_t nowNs);
    void sendDue(std::int64_t nowNs);
    void sendHeartbeats(std::int64_t nowNs);
    bool allReached() const;
    std::int64_t nextWakeNs(std::int64_t nowNs) const;

    void readControl();
    void handleCommand(const nlohmann::json& cmd, std::int64_t nowNs);
    void emit(const nlohmann::json& event);
    nlohmann::json report() const;
    void count(const std::string& what, std::uint64_t n = 1) { m_errors[what] += n; }

    const Options& m_o;
    int m_index;
    int m_control;
    int m_epoll = -1;
    Phase m_phase = Phase::Connecting;
    std::vector<Member> m_members;
    std::vector<std::string> m_roomNames;
    std::vector<std::uint32_t> m_senders; //!< local member indexes that send
    sockaddr_in m_target {}; // port set per connection (Options::portOf)
    std::mt19937 m_rng;
    FrameScanner m_scanner;
    ScannedFrame m_frame;
    std::string m_controlIn;
    std::string m_body; // reused per send
    std::string m_frameText; // reused per send

    // Connect phase.
    std::int64_t m_connectStartNs = 0;
    std::int64_t m_lastProgressNs = 0;
    std::size_t m_started = 0;
    std::size_t m_inFlight = 0;
    std::size_t m_ready = 0;
    std::size_t m_failedConnects = 0;

    // Run phase.
    std::int64_t m_t0 = 0;
    std::int64_t m_localMessages = 0;
    double m_localRate = 0;
    std::int64_t m_sent = 0;
    std::size_t m_nextSender = 0;
    std::int64_t m_maxSendLagNs = 0;
    std::int64_t m_deadlineNs = 0;
    std::int64_t m_nextHeartbeatSweepNs = 0;
    std::unordered_map<std::uint64_t, PendingSend> m_pending;
    std::uint64_t m_acked = 0;
    std::map<int, std::uint64_t> m_maxAck;
    std::map<int, std::uint64_t> m_finals;
    std::unordered_map<std::uint64_t, FanoutRecord> m_fanout;
    std::uint64_t m_deliveries = 0;
    std::int64_t m_lastDeliveryNs = 0;
    std::uint64_t m_heartbeatsSent = 0;
    std::uint64_t m_missing = 0;
    std::uint64_t m_duplicates = 0;
    LatencyHistogram m_delivery; // to members other than the sender
    LatencyHistogram m_self; // the sender's own copy (the idle workload's echo)
    LatencyHistogram m_ack;
    std::map<std::string, std::uint64_t> m_errors;
    std::map<std::string, std::uint64_t> m_otherFrames;
    std::vector<std::string> m_errorSamples;
};

} // namespace parley::bench
