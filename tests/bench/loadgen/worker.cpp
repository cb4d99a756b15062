#include "worker.h"

#include <arpa/inet.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <ctime>

namespace parley::bench {

namespace {

constexpr std::uint32_t kControlTag = 0xFFFFFFFFu;
constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::size_t kMaxErrorSamples = 20;

std::int64_t monotonicNs()
{
    timespec ts {};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * kSecond + ts.tv_nsec;
}

template <typename T>
bool parseInt(std::string_view& s, T& out)
{
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec != std::errc() || end == s.data() + s.size() || *end != ' ') {
        return false;
    }
    s.remove_prefix(static_cast<std::size_t>(end - s.data()) + 1);
    return true;
}

// The body of every benchmark message: "<send ns> <sender connection> <message no> xxx...".
bool parseBody(std::string_view body, std::int64_t& sendNs, int& sender, std::uint64_t& msgNo)
{
    return parseInt(body, sendNs) && parseInt(body, sender) && parseInt(body, msgNo);
}

} // namespace

Worker::Worker(const Options& options, int index, int controlFd)
    : m_o(options)
    , m_index(index)
    , m_control(controlFd)
    , m_rng(static_cast<std::uint32_t>(monotonicNs()) ^ static_cast<std::uint32_t>(index * 7919))
{
    const int first = m_o.firstOf(index);
    const int last = m_o.lastOf(index);
    m_members.reserve(static_cast<std::size_t>(last - first));
    for (int g = first; g < last; ++g) {
        Member& m = m_members.emplace_back();
        m.global = g;
        m.room = m_o.roomOf(g);
        if (m_o.isSender(g)) {
            m_senders.push_back(static_cast<std::uint32_t>(m_members.size() - 1));
        }
    }
    const int roomCount = m_o.rooms + (m_o.workload == Workload::Idle ? 1 : 0);
    for (int r = 0; r < roomCount; ++r) {
        m_roomNames.push_back(m_o.roomName(r));
    }
    m_target.sin_family = AF_INET;
    m_target.sin_port = htons(m_o.port);
    ::inet_pton(AF_INET, m_o.host.c_str(), &m_target.sin_addr);
    m_localMessages = m_o.messagesOf(index);
    // Local messages are spread over the same wall time as everybody else's.
    const double seconds = static_cast<double>(m_o.totalMessages()) / m_o.rate;
    m_localRate = seconds > 0 ? static_cast<double>(m_localMessages) / seconds : 0;
    m_body.reserve(static_cast<std::size_t>(m_o.bodyBytes) + 16);
}

int Worker::run()
{
    m_epoll = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event cev {};
    cev.events = EPOLLIN;
    cev.data.u32 = kControlTag;
    ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_control, &cev);

    std::vector<char> scratch(256 * 1024);
    std::vector<epoll_event> events(1024);
    m_connectStartNs = monotonicNs();
    m_lastProgressNs = m_connectStartNs;
    while (m_phase != Phase::Exit) {
        const std::int64_t now = monotonicNs();
        const std::int64_t wait = std::max<std::int64_t>(0, nextWakeNs(now) - now);
        timespec timeout { static_cast<time_t>(wait / kSecond), static_cast<long>(wait % kSecond) };
        const int n = ::epoll_pwait2(m_epoll, events.data(), static_cast<int>(events.size()),
            &timeout, nullptr);
        if (n < 0 && errno != EINTR) {
            count("epoll_failed");
            break;
        }
        // One timestamp per wake-up: every frame read in this batch arrived by now.
        const std::int64_t readNs = monotonicNs();
        for (int i = 0; i < n; ++i) {
            const std::uint32_t tag = events[static_cast<std::size_t>(i)].data.u32;
            if (tag == kControlTag) {
                readControl();
                continue;
            }
            m_members[tag].ws.handleEvents(events[static_cast<std::size_t>(i)].events, *this,
                scratch.data(), scratch.size(), readNs);
        }
        tick(monotonicNs());
    }
    for (Member& m : m_members) {
        m.ws.close(1000);
    }
    ::close(m_epoll);
    return 0;
}

std::int64_t Worker::nextWakeNs(std::int64_t nowNs) const
{
    std::int64_t next = nowNs + 50'000'000; // phase deadlines and progress are checked at 20 Hz
    next = std::min(next, m_nextHeartbeatSweepNs);
    if (m_phase == Phase::Connecting && m_started < m_members.size()) {
        const double perNs = m_o.connectRate / m_o.procs / 1e9;
        const auto due = m_connectStartNs + static_cast<std::int64_t>(m_started / perNs);
        next = std::min(next, due);
    }
    if (m_phase == Phase::Sending && m_sent < m_localMessages && m_localRate > 0) {
        const auto due = m_t0 + static_cast<std::int64_t>(m_sent * 1e9 / m_localRate);
        next = std::min(next, due);
    }
    return next;
}

void Worker::tick(std::int64_t nowNs)
{
    if (nowNs >= m_nextHeartbeatSweepNs) {
        sendHeartbeats(nowNs);
        m_nextHeartbeatSweepNs = nowNs + 250'000'000;
    }
    switch (m_phase) {
    case Phase::Connecting: {
        startConnects(nowNs);
        const bool timedOut = nowNs - m_connectStartNs > m_o.connectTimeoutS * 1e9;
        if (m_ready + m_failedConnects == m_members.size() || timedOut) {
            if (timedOut) {
                for (Member& m : m_members) {
                    if (m.step != Step::Ready && m.step != Step::Failed) {
                        m.step = Step::Failed;
                        m.ws.close(1000);
                        ++m_failedConnects;
                        count("connect_timeout");
                    }
                }
            }
            emit({ { "ev", "ready" }, { "ready", m_ready }, { "failed", m_failedConnects } });
            m_phase = Phase::WaitGo;
        } else if (nowNs - m_lastProgressNs > kSecond) {
            m_lastProgressNs = nowNs;
            emit({ { "ev", "progress" }, { "ready", m_ready }, { "failed", m_failedConnects } });
        }
        break;
    }
    case Phase::Sending:
        sendDue(nowNs);
        if (m_sent >= m_localMessages) {
            m_phase = Phase::Draining;
            m_deadlineNs = nowNs + static_cast<std::int64_t>(m_o.drainTimeoutS * 1e9);
        }
        break;
    case Phase::Draining:
        if (m_pending.empty() || nowNs > m_deadlineNs) {
            nlohmann::json maxAck = nlohmann::json::object();
            for (const auto& [room, seq] : m_maxAck) {
                maxAck[std::to_string(room)] = seq;
            }
            emit({ { "ev", "sent" }, { "max_ack", maxAck } });
            m_phase = Phase::WaitFinals;
        }
        break;
    case Phase::Verifying:
        if (allReached() || nowNs > m_deadlineNs) {
            for (const Member& m : m_members) {
                if (m.step != Step::Ready) {
                    continue;
                }
                const auto f = m_finals.find(m.room);
                m_missing += m.seq.missing(f == m_finals.end() ? 0 : f->second);
                m_duplicates += m.seq.duplicatesOrReordered();
            }
            emit(report());
            m_phase = Phase::WaitExit;
        }
        break;
    default: break;
    }
}

void Worker::startConnects(std::int64_t nowNs)
{
    const double perNs = m_o.connectRate / m_o.procs / 1e9;
    const auto due = static_cast<std::size_t>((nowNs - m_connectStartNs) * perNs) + 1;
    while (m_started < m_members.size() && m_started < due
        && m_inFlight < static_cast<std::size_t>(m_o.maxPendingConnects)) {
        Member& m = m_members[m_started];
        sockaddr_in source {};
        source.sin_family = AF_INET;
        source.sin_addr.s_addr = htonl(0x7F000001u + static_cast<std::uint32_t>(m.global % m_o.srcAddrs));
        m.step = Step::Connecting;
        ++m_inFlight;
        const std::uint16_t port = m_o.portOf(m.global);
        m_target.sin_port = htons(port);
        if (!m.ws.connect(m_epoll, static_cast<std::uint32_t>(m_started), source, m_target,
                m_o.host + ":" + std::to_string(port), m_o.path, m_rng())) {
            onFailed(m.ws);
        }
        ++m_started;
    }
}

void Worker::onOpen(WsConnection& c)
{
    Member& m = m_members[c.tag()];
    m.step = Step::Welcome;
    c.sendText(R"({"type":"hello","id":"h","user":")" + m_o.userName(m.global) + "\"}");
}

void Worker::onFailed(WsConnection& c)
{
    Member& m = m_members[c.tag()];
    const bool wasReady = m.step == Step::Ready;
    if (m.step != Step::Ready && m.step != Step::Failed) {
        --m_inFlight;
        ++m_failedConnects;
    }
    m.step = Step::Failed;
    std::string what = WsConnection::failureName(c.failure());
    if (c.failure() == WsConnection::Failure::ClosedByServer) {
        what += ":" + std::to_string(c.closeCode());
    } else if (c.failure() == WsConnection::Failure::Connect) {
        what += std::string(":") + (c.errnoValue() ? strerrorname_np(c.errnoValue()) : "?");
    }
    count((wasReady ? "lost:" : "setup:") + what);
    if (m_errorSamples.size() < kMaxErrorSamples) {
        m_errorSamples.push_back(
            "connection " + std::to_string(m.global) + ": " + what + " " + c.failureDetail());
    }
}

void Worker::onText(WsConnection& c, std::string_view text, std::int64_t nowNs)
{
    Member& m = m_members[c.tag()];
    if (!m_scanner.scan(text, m_frame)) {
        count("bad_server_frame");
        if (m_errorSamples.size() < kMaxErrorSamples) {
            m_errorSamples.push_back(std::string("bad frame (") + m_scanner.error()
                + "): " + std::string(text.substr(0, 200)));
        }
        return;
    }
    const std::string_view type = m_frame.str(ScannedFrame::Type);
    if (type == "message") {
        handleMessage(m, nowNs);
    } else if (type == "ack") {
        handleAck(m, nowNs);
    } else if (type == "welcome") {
        handleWelcome(m, nowNs);
    } else if (type == "joined") {
        handleJoined(m);
    } else if (type == "error") {
        handleError(m);
    } else {
        ++m_otherFrames[std::string(type)];
    }
}

void Worker::handleWelcome(Member& m, std::int64_t nowNs)
{
    if (m.step != Step::Welcome) {
        count("unexpected_welcome");
        return;
    }
    const std::uint64_t hbMs = m_frame.heartbeatMs ? m_frame.heartbeatMs : 30000;
    m.heartbeatNs = static_cast<std::int64_t>(hbMs) * 1'000'000;
    // Spread heartbeats: the first one somewhere in the first interval.
    m.nextHeartbeatNs = nowNs + static_cast<std::int64_t>(m_rng() % static_cast<std::uint64_t>(m.heartbeatNs));
    m.step = Step::Joining;
    m.ws.sendText(R"({"type":"join","id":"j","room":")" + m_roomNames[static_cast<std::size_t>(m.room)] + "\"}");
}

void Worker::handleJoined(Member& m)
{
    if (m.step != Step::Joining || m_frame.str(ScannedFrame::Room) != m_roomNames[static_cast<std::size_t>(m.room)]) {
        count("unexpected_joined");
        return;
    }
    if (!m_frame.hasLastSeq) {
        count("joined_without_last_seq");
    }
    m.epoch = std::string(m_frame.str(ScannedFrame::Epoch));
    m.seq.start(m_frame.lastSeq);
    m.step = Step::Ready;
    --m_inFlight;
    ++m_ready;
}

void Worker::handleMessage(Member& m, std::int64_t nowNs)
{
    if (m.step != Step::Ready) {
        count("message_before_joined");
        return;
    }
    if (m_frame.str(ScannedFrame::Room) != m_roomNames[static_cast<std::size_t>(m.room)]) {
        count("message_for_another_room");
        return;
    }
    if (!m_frame.hasSeq) {
        count("message_without_seq");
        return;
    }
    if (m_frame.str(ScannedFrame::Epoch) != m.epoch) {
        count("message_epoch_changed");
    }
    m.seq.onMessage(m_frame.seq);
    std::int64_t sendNs = 0;
    int sender = 0;
    std::uint64_t msgNo = 0;
    if (!parseBody(m_frame.str(ScannedFrame::Body), sendNs, sender, msgNo)) {
        count("message_with_foreign_body");
        return;
    }
    const std::int64_t latency = nowNs - sendNs;
    ++m_deliveries;
    m_lastDeliveryNs = std::max(m_lastDeliveryNs, nowNs);
    if (sender == m.global) {
        m_self.record(latency);
    } else {
        m_delivery.record(latency);
    }
    if (m_o.workload == Workload::Fanout) {
        FanoutRecord& r = m_fanout[msgNo];
        ++r.receipts;
        r.lastNs = std::max(r.lastNs, latency);
    }
}

void Worker::handleAck(Member& m, std::int64_t nowNs)
{
    const std::string_view cid = m_frame.str(ScannedFrame::ClientId);
    std::uint64_t msgNo = 0;
    const bool parsed = cid.size() > 1 && cid[0] == 'c'
        && std::from_chars(cid.data() + 1, cid.data() + cid.size(), msgNo).ptr
            == cid.data() + cid.size();
    const auto it = parsed ? m_pending.find(msgNo) : m_pending.end();
    if (it == m_pending.end() || &m_members[it->second.member] != &m) {
        count("unexpected_ack");
        return;
    }
    if (m_frame.duplicate) {
        count("ack_marked_duplicate"); // we never resend, so the server deduped wrongly
    }
    if (!m_frame.hasSeq || m_frame.str(ScannedFrame::Room) != m_roomNames[static_cast<std::size_t>(m.room)]) {
        count("ack_without_seq_or_room");
    } else {
        m.seq.onOwnAck(m_frame.seq);
        std::uint64_t& top = m_maxAck[m.room];
        top = std::max(top, m_frame.seq);
    }
    m_ack.record(nowNs - it->second.sendNs);
    ++m_acked;
    m_pending.erase(it);
}

void Worker::handleError(Member& m)
{
    const std::string code(m_frame.str(ScannedFrame::Code));
    count("error_frame:" + (code.empty() ? std::string("?") : code));
    if (m_errorSamples.size() < kMaxErrorSamples) {
        m_errorSamples.push_back("connection " + std::to_string(m.global) + ": error " + code + " "
            + std::string(m_frame.str(ScannedFrame::Message)));
    }
    const std::string_view cid = m_frame.str(ScannedFrame::ClientId);
    std::uint64_t msgNo = 0;
    if (cid.size() > 1 && cid[0] == 'c'
        && std::from_chars(cid.data() + 1, cid.data() + cid.size(), msgNo).ec == std::errc()) {
        m_pending.erase(msgNo);
    }
    if (m.step == Step::Welcome || m.step == Step::Joining) {
        // hello or join refused: this member cannot take part.
        --m_inFlight;
        ++m_failedConnects;
        m.step = Step::Failed;
        m.ws.close(1000);
    }
}

void Worker::sendDue(std::int64_t nowNs)
{
    if (m_localRate <= 0 || nowNs < m_t0) {
        return;
    }
    const auto due = std::min<std::int64_t>(m_localMessages,
        static_cast<std::int64_t>((nowNs - m_t0) / 1e9 * m_localRate) + 1);
    while (m_sent < due) {
        const auto scheduled = m_t0 + static_cast<std::int64_t>(m_sent * 1e9 / m_localRate);
        // Round robin over the senders still connected.
        Member* sender = nullptr;
        for (std::size_t tries = 0; tries < m_senders.size() && !sender; ++tries) {
            Member& candidate = m_members[m_senders[m_nextSender]];
            m_nextSender = (m_nextSender + 1) % m_senders.size();
            if (candidate.step == Step::Ready) {
                sender = &candidate;
            }
        }
        const std::uint64_t msgNo = static_cast<std::uint64_t>(m_sent++);
        if (!sender) {
            count("send_skipped_no_connected_sender");
            continue;
        }
        const std::int64_t sendNs = monotonicNs();
        m_maxSendLagNs = std::max(m_maxSendLagNs, sendNs - scheduled);
        m_body.clear();
        m_body += std::to_string(sendNs);
        m_body += ' ';
        m_body += std::to_string(sender->global);
        m_body += ' ';
        m_body += std::to_string(msgNo);
        m_body += ' ';
        if (m_body.size() < static_cast<std::size_t>(m_o.bodyBytes)) {
            m_body.append(static_cast<std::size_t>(m_o.bodyBytes) - m_body.size(), 'x');
        }
        m_frameText.clear();
        m_frameText += R"({"type":"send","room":")";
        m_frameText += m_roomNames[static_cast<std::size_t>(sender->room)];
        m_frameText += R"(","client_id":"c)";
        m_frameText += std::to_string(msgNo);
        m_frameText += R"(","body":")";
        m_frameText += m_body;
        m_frameText += "\"}";
        m_pending[msgNo] = PendingSend { sendNs,
            static_cast<std::uint32_t>(sender - m_members.data()) };
        sender->ws.sendText(m_frameText);
    }
}

void Worker::sendHeartbeats(std::int64_t nowNs)
{
    for (Member& m : m_members) {
        if (m.step == Step::Ready && nowNs >= m.nextHeartbeatNs) {
            m.ws.sendText(R"({"type":"heartbeat"})");
            m.nextHeartbeatNs = nowNs + m.heartbeatNs;
            ++m_heartbeatsSent;
        }
    }
}

bool Worker::allReached() const
{
    for (const Member& m : m_members) {
        if (m.step != Step::Ready) {
            continue;
        }
        const auto f = m_finals.find(m.room);
        if (f != m_finals.end() && !m.seq.reached(f->second)) {
            return false;
        }
    }
    return true;
}

void Worker::readControl()
{
    char buf[65536];
    const ssize_t n = ::read(m_control, buf, sizeof buf);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            return;
        }
        m_phase = Phase::Exit; // the coordinator is gone
        return;
    }
    m_controlIn.append(buf, static_cast<std::size_t>(n));
    std::size_t eol = 0;
    while ((eol = m_controlIn.find('\n')) != std::string::npos) {
        const auto cmd = nlohmann::json::parse(m_controlIn.substr(0, eol), nullptr, false);
        m_controlIn.erase(0, eol + 1);
        if (!cmd.is_discarded()) {
            handleCommand(cmd, monotonicNs());
        }
    }
}

void Worker::handleCommand(const nlohmann::json& cmd, std::int64_t nowNs)
{
    const std::string name = cmd.value("cmd", "");
    if (name == "go" && m_phase == Phase::WaitGo) {
        m_t0 = cmd.value("t0", nowNs);
        m_phase = Phase::Sending;
    } else if (name == "finals" && m_phase == Phase::WaitFinals) {
        for (const auto& [room, seq] : cmd.at("rooms").items()) {
            m_finals[std::stoi(room)] = seq.get<std::uint64_t>();
        }
        m_phase = Phase::Verifying;
        m_deadlineNs = nowNs + static_cast<std::int64_t>(m_o.drainTimeoutS * 1e9);
    } else if (name == "exit") {
        m_phase = Phase::Exit;
    }
}

void Worker::emit(const nlohmann::json& event)
{
    std::string line = event.dump();
    line += '\n';
    std::size_t off = 0;
    while (off < line.size()) {
        const ssize_t n = ::write(m_control, line.data() + off, line.size() - off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;
        }
        off += static_cast<std::size_t>(n);
    }
}

nlohmann::json Worker::report() const
{
    nlohmann::json fanout = nlohmann::json::array();
    for (const auto& [msgNo, r] : m_fanout) {
        fanout.push_back({ msgNo, r.receipts, r.lastNs });
    }
    std::size_t lost = 0;
    for (const Member& m : m_members) {
        lost += (m.step == Step::Failed) ? 1 : 0;
    }
    return {
        { "ev", "report" },
        { "worker", m_index },
        { "connections", m_members.size() },
        { "ready", m_ready },
        { "failed_connects", m_failedConnects },
        { "failed_total", lost },
        { "sent", m_sent },
        { "acked", m_acked },
        { "unacked", m_pending.size() },
        { "deliveries", m_deliveries },
        { "last_delivery_ns", m_lastDeliveryNs },
        { "missing", m_missing },
        { "duplicates_or_reordered", m_duplicates },
        { "heartbeats_sent", m_heartbeatsSent },
        { "max_send_lag_ns", m_maxSendLagNs },
        { "delivery", m_delivery.toJson() },
        { "self", m_self.toJson() },
        { "ack", m_ack.toJson() },
        { "fanout", fanout },
        { "errors", m_errors },
        { "other_frames", m_otherFrames },
        { "error_samples", m_errorSamples },
    };
}

} // namespace parley::bench
