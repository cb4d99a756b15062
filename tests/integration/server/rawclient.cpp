#include "rawclient.h"
#include "waituntil.h"

#include <QCoreApplication>
#include <QDeadlineTimer>

namespace parley::test {

RawClient::RawClient(QUrl url)
    : m_url(std::move(url))
{
    // Server frames can legitimately be large (history pages).
    m_socket.setMaxAllowedIncomingMessageSize(64 * 1024 * 1024);
    QObject::connect(
        &m_socket, &QWebSocket::textMessageReceived, &m_socket, [this](const QString& text) {
            const QByteArray utf8 = text.toUtf8();
            protocol::DecodeLimits limits;
            limits.maxFrameBytes = 64 * 1024 * 1024;
            limits.maxBodyBytes = 64 * 1024 * 1024;
            auto decoded = protocol::decodeServerFrame(
                std::string_view(utf8.constData(), std::size_t(utf8.size())), limits);
            if (decoded) {
                m_frames.push_back(std::move(decoded).value());
                m_taken.push_back(false);
            } else {
                m_undecodable.push_back(text);
            }
        });
    QObject::connect(&m_socket, &QWebSocket::disconnected, &m_socket, [this] {
        m_closed = true;
        m_closeCode = int(m_socket.closeCode());
    });
}

RawClient::~RawClient()
{
    m_socket.abort();
}

bool RawClient::waitUntil(const std::function<bool()>& done, int timeoutMs)
{
    return parley::test::waitUntil(done, timeoutMs);
}

bool RawClient::open(int timeoutMs)
{
    m_socket.open(m_url);
    return waitUntil([this] { return isOpen() || m_closed; }, timeoutMs) && isOpen();
}

void RawClient::sendText(const QString& text)
{
    m_socket.sendTextMessage(text);
}

void RawClient::send(const protocol::ClientFrame& frame)
{
    sendText(QString::fromStdString(protocol::encode(frame)));
}

void RawClient::sendBinary(const QByteArray& data)
{
    m_socket.sendBinaryMessage(data);
}

void RawClient::close()
{
    m_socket.close();
    waitUntil([this] { return m_closed; }, 5000);
}

int RawClient::waitClosed(int timeoutMs)
{
    return waitUntil([this] { return m_closed; }, timeoutMs) ? m_closeCode : -1;
}

std::string RawClient::nextId()
{
    return "r" + std::to_string(++m_nextId);
}

std::optional<protocol::Error> RawClient::takeError(const std::string& id, int timeoutMs)
{
    return take<protocol::Error>([&](const protocol::Error& e) { return e.id == id; }, timeoutMs);
}

std::optional<protocol::Welcome> RawClient::hello(
    const std::string& user, std::vector<protocol::ResumeCursor> resume)
{
    protocol::Hello hello;
    hello.id = nextId();
    hello.user = user;
    hello.resume = std::move(resume);
    send(hello);
    const std::string id = hello.id;
    return take<protocol::Welcome>([&](const protocol::Welcome& w) { return w.id == id; });
}

std::optional<protocol::Joined> RawClient::join(const std::string& room)
{
    const std::string id = nextId();
    send(protocol::Join { id, room });
    return take<protocol::Joined>([&](const protocol::Joined& j) { return j.id == id; });
}

std::optional<protocol::Ack> RawClient::sendMessage(
    const std::string& room, const std::string& clientId, const std::string& body)
{
    const std::string id = nextId();
    send(protocol::Send { id, room, clientId, body });
    return take<protocol::Ack>([&](const protocol::Ack& a) { return a.id == id; });
}

std::optional<protocol::HistoryPage> RawClient::history(const std::string& room,
    std::optional<std::uint64_t> before, std::optional<std::uint64_t> after, std::uint32_t limit)
{
    const std::string id = nextId();
    send(protocol::HistoryRequest { id, room, before, after, limit });
    return take<protocol::HistoryPage>([&](const protocol::HistoryPage& p) { return p.id == id; });
}

bool RawClient::sync()
{
    const std::string id = nextId();
    send(protocol::Heartbeat { id });
    return take<protocol::HeartbeatAck>([&](const protocol::HeartbeatAck& a) {
        return a.id == id;
    }).has_value();
}

std::optional<bool> RawClient::queryOnline(const std::string& user)
{
    const protocol::PresenceQuery query { nextId(), { user } };
    send(query);
    const auto state = take<protocol::PresenceState>(
        [&](const protocol::PresenceState& s) { return s.id == query.id; });
    if (!state || state->users.size() != 1) {
        return std::nullopt;
    }
    return state->users[0].online;
}

} // namespace parley::test
