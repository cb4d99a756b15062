#include "noderouter.h"

#include "common/clock.h"
#include "common/post.h"
#include "presence/redispresence.h"
#include "redis/redisclient.h"
#include "redis/redisreply.h"
#include "redis/redissubscriber.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QTimer>

namespace parley::server {

Q_LOGGING_CATEGORY(lcRouter, "parley.router", QtInfoMsg)

namespace {

// KEYS: the user's presence sessions (sorted set "<node>/<session>" -> expiry ms).
// ARGV: node channel prefix, payload. PUBLISHes the payload once to each node with a live
// session; returns how many nodes received it.
constexpr const char* kRouteScript = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local reached = 0
local seen = {}
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')) do
  local slash = string.find(member, '/', 1, true)
  if slash then
    local node = string.sub(member, 1, slash - 1)
    if not seen[node] then
      seen[node] = true
      reached = reached + redis.call('PUBLISH', ARGV[1] .. node, ARGV[2])
    end
  end
end
return reached
)lua";

constexpr const char* kChannelPrefix = "parley:node:";

QByteArray compact(const QJsonObject& object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

} // namespace

QByteArray NodeRouter::channelOf(const std::string& node)
{
    return kChannelPrefix + QByteArray::fromStdString(node);
}

NodeRouter::NodeRouter(RedisEndpoint endpoint, std::string nodeId)
    : m_endpoint(std::move(endpoint))
    , m_nodeId(std::move(nodeId))
    , m_channel(channelOf(m_nodeId))
    , m_routeScript(kRouteScript)
{
}

NodeRouter::~NodeRouter() = default;

void NodeRouter::start()
{
    post(this, [this] {
        m_client = new RedisClient(m_endpoint, this);
        m_subscriber = new RedisSubscriber(m_endpoint, this);
        connect(m_client, &RedisClient::connected, this, [this] { updateHealth(); });
        connect(m_client, &RedisClient::disconnected, this, [this] { updateHealth(); });
        connect(m_subscriber, &RedisSubscriber::subscribed, this, [this] { updateHealth(); });
        connect(m_subscriber, &RedisSubscriber::disconnected, this, [this] { updateHealth(); });
        connect(m_subscriber, &RedisSubscriber::messageReceived, this,
            [this](const QByteArray& channel, const QByteArray& payload) {
                onMessage(channel, payload);
            });
        m_timeoutTimer = new QTimer(this);
        m_timeoutTimer->setInterval(250);
        connect(m_timeoutTimer, &QTimer::timeout, this, [this] { expirePending(); });
        m_relayTimer = new QTimer(this);
        m_relayTimer->setInterval(kRelayCheckMs);
        connect(m_relayTimer, &QTimer::timeout, this, [this] { checkRelays(); });
        // Relayed bytes published while we were not subscribed are lost: those relays are over.
        connect(m_subscriber, &RedisSubscriber::disconnected, this, [this] { endAllRelays(503); });
        m_subscriber->subscribe(m_channel);
        m_client->start();
        m_subscriber->start();
    });
}

void NodeRouter::stopLinks()
{
    if (m_timeoutTimer) {
        m_timeoutTimer->stop();
    }
    if (m_subscriber) {
        m_subscriber->stop();
    }
    if (m_relayTimer) {
        m_relayTimer->stop();
    }
    endAllRelays(503);
    if (m_client) {
        m_client->stop();
    }
    failAllPending(503);
}

void NodeRouter::forwardCommands(
    std::string node, QByteArray token, QList<QString> frames, StatusDone done)
{
    post(this,
        [this, node = std::move(node), token = std::move(token), frames = std::move(frames),
            done = std::move(done)]() mutable {
            QJsonArray array;
            for (const QString& frame : frames) {
                array.append(frame);
            }
            forward(node,
                { { QStringLiteral("k"), QStringLiteral("c") },
                    { QStringLiteral("t"), QString::fromLatin1(token) },
                    { QStringLiteral("f"), array } },
                std::move(done));
        });
}

void NodeRouter::forwardEndSession(std::string node, QByteArray token, StatusDone done)
{
    post(this,
        [this, node = std::move(node), token = std::move(token), done = std::move(done)]() mutable {
            forward(node,
                { { QStringLiteral("k"), QStringLiteral("e") },
                    { QStringLiteral("t"), QString::fromLatin1(token) } },
                std::move(done));
        });
}

void NodeRouter::forward(const std::string& node, QJsonObject fields, StatusDone done)
{
    if (!m_client || !m_client->isConnected() || m_pending.size() >= kMaxPendingForwards) {
        done(503);
        return;
    }
    const std::uint64_t id = m_nextRequest++;
    fields.insert(QStringLiteral("rid"), QString::number(id));
    fields.insert(QStringLiteral("from"), QString::fromStdString(m_nodeId));
    const QByteArray payload = compact(fields);
    m_pending.emplace(id, Pending { std::move(done), monotonicMs() + kForwardTimeoutMs });
    if (!m_timeoutTimer->isActive()) {
        m_timeoutTimer->start();
    }
    m_client->command({ "PUBLISH", channelOf(node), payload }, [this, id](const RedisReply& reply) {
        if (reply.isInteger() && reply.integer() > 0) {
            return; // the owner got it: its answer (or the timeout) completes it
        }
        // Nobody subscribed (the owner is dead or cut off) or Redis failed.
        const auto it = m_pending.find(id);
        if (it != m_pending.end()) {
            StatusDone pendingDone = std::move(it->second.done);
            m_pending.erase(it);
            pendingDone(503);
        }
    });
}

void NodeRouter::sendToUser(std::string user, QString frame, UserDone done)
{
    post(this, [this, user = std::move(user), frame = std::move(frame), done = std::move(done)] {
        if (!m_client || !m_client->isConnected()) {
            done(false, 0);
            return;
        }
        const QByteArray payload = compact({ { QStringLiteral("k"), QStringLiteral("u") },
            { QStringLiteral("u"), QString::fromStdString(user) },
            { QStringLiteral("f"), frame } });
        m_routeScript.call(*m_client, { RedisPresence::sessionsKey(user) },
            { kChannelPrefix, payload }, [done](const RedisReply& reply) {
                if (!reply.isInteger()) {
                    done(false, 0);
                    return;
                }
                done(true, int(reply.integer()));
            });
    });
}

std::uint64_t NodeRouter::openRelay(
    std::string node, QByteArray token, bool stream, QByteArray cursor, RelayHandler handler)
{
    const std::uint64_t id = m_nextRelay.fetch_add(1, std::memory_order_relaxed);
    post(this,
        [this, id, node = std::move(node), token = std::move(token), stream,
            cursor = std::move(cursor), handler = std::move(handler)]() mutable {
            if (!m_client || !m_client->isConnected() || !m_subscriber
                || !m_subscriber->isSubscribed(m_channel)
                || m_heldRelays.size() >= kMaxHeldRelays) {
                handler.ended(id, 503);
                return;
            }
            const qint64 now = monotonicMs();
            const QByteArray payload = compact({ { QStringLiteral("k"), QStringLiteral("s") },
                { QStringLiteral("id"), QString::number(id) },
                { QStringLiteral("from"), QString::fromStdString(m_nodeId) },
                { QStringLiteral("t"), QString::fromLatin1(token) },
                { QStringLiteral("m"), stream ? QStringLiteral("sse") : QStringLiteral("poll") },
                { QStringLiteral("c"), QString::fromLatin1(cursor) } });
            const QByteArray channel = channelOf(node);
            m_heldRelays.emplace(
                id, HeldRelay { std::move(node), std::move(token), std::move(handler), now, now });
            if (!m_relayTimer->isActive()) {
                m_relayTimer->start();
            }
            m_client->command({ "PUBLISH", channel, payload }, [this, id](const RedisReply& reply) {
                if (!reply.isInteger() || reply.integer() == 0) {
                    endRelay(id, 503, false); // the owner is not subscribed: dead or cut off
                }
            });
        });
    return id;
}

void NodeRouter::closeRelay(std::uint64_t id)
{
    post(this, [this, id] {
        const auto it = m_heldRelays.find(id);
        if (it == m_heldRelays.end()) {
            return;
        }
        publishRelayClose(it->second.node, id, it->second.token);
        m_heldRelays.erase(it);
    });
}

void NodeRouter::publishRelayClose(
    const std::string& node, std::uint64_t id, const QByteArray& token)
{
    if (!m_client || !m_client->isConnected()) {
        return; // the owner notices when its next part reaches nobody
    }
    m_client->command({ "PUBLISH", channelOf(node),
                          compact({ { QStringLiteral("k"), QStringLiteral("x") },
                              { QStringLiteral("id"), QString::number(id) },
                              { QStringLiteral("from"), QString::fromStdString(m_nodeId) },
                              { QStringLiteral("t"), QString::fromLatin1(token) } }) },
        [](const RedisReply&) {});
}

void NodeRouter::sendRelay(
    const RelayLink& link, int status, int silenceMs, QByteArray bytes, bool end, RelaySent sent)
{
    post(this,
        [this, link, status, silenceMs, bytes = std::move(bytes), end,
            sent = std::move(sent)]() mutable {
            if (!m_client || !m_client->isConnected()) {
                if (sent) {
                    sent(false);
                }
                return;
            }
            QJsonObject head { { QStringLiteral("k"), QStringLiteral("o") },
                { QStringLiteral("id"), QString::number(link.id) },
                { QStringLiteral("from"), QString::fromStdString(m_nodeId) } };
            if (status != 0) {
                head.insert(QStringLiteral("s"), status);
            }
            if (status == 200) {
                head.insert(QStringLiteral("i"), silenceMs);
            }
            if (end) {
                head.insert(QStringLiteral("end"), true);
            }
            // JSON head (compact: no raw newline), a newline, the response bytes as they are.
            const QByteArray payload = compact(head) + '\n' + bytes;
            m_client->command({ "PUBLISH", channelOf(link.node), payload },
                [sent = std::move(sent)](const RedisReply& reply) {
                    if (sent) {
                        sent(reply.isInteger() && reply.integer() > 0);
                    }
                });
        });
}

void NodeRouter::onRelayPart(const QJsonObject& head, QByteArray bytes)
{
    const std::uint64_t id = head.value(QLatin1String("id")).toString().toULongLong();
    const auto it = m_heldRelays.find(id);
    if (it == m_heldRelays.end()
        || head.value(QLatin1String("from")).toString().toStdString() != it->second.node) {
        return; // closed or ended here already (the owner was told), or not from its owner
    }
    HeldRelay& relay = it->second;
    relay.lastHeardMs = monotonicMs();
    const int status = head.value(QLatin1String("s")).toInt(0);
    if (status == 200) {
        relay.silenceMs = std::max(0, head.value(QLatin1String("i")).toInt(0));
    }
    if (!bytes.isEmpty()) {
        relay.handler.data(id, std::move(bytes));
    }
    if (status >= 400) {
        endRelay(id, status, false);
    } else if (head.value(QLatin1String("end")).toBool()) {
        endRelay(id, 0, false);
    }
}

void NodeRouter::endRelay(std::uint64_t id, int status, bool tellOwner)
{
    const auto it = m_heldRelays.find(id);
    if (it == m_heldRelays.end()) {
        return;
    }
    HeldRelay relay = std::move(it->second);
    m_heldRelays.erase(it);
    if (tellOwner) {
        publishRelayClose(relay.node, id, relay.token);
    }
    relay.handler.ended(id, status);
}

void NodeRouter::endAllRelays(int status)
{
    std::vector<std::uint64_t> ids;
    ids.reserve(m_heldRelays.size());
    for (const auto& [id, relay] : m_heldRelays) {
        ids.push_back(id);
    }
    for (const std::uint64_t id : ids) {
        endRelay(id, status, true);
    }
}

void NodeRouter::checkRelays()
{
    if (m_heldRelays.empty()) {
        m_relayTimer->stop();
        return;
    }
    const qint64 now = monotonicMs();
    std::vector<std::uint64_t> silent;
    std::unordered_set<std::string> owners;
    for (const auto& [id, relay] : m_heldRelays) {
        const qint64 allowed
            = (relay.silenceMs < 0 ? 0 : relay.silenceMs) + NodeRouter::kForwardTimeoutMs;
        const qint64 since = relay.silenceMs < 0 ? relay.openedMs : relay.lastHeardMs;
        if (now - since > allowed) {
            silent.push_back(id);
        } else {
            owners.insert(relay.node);
        }
    }
    for (const std::uint64_t id : silent) {
        endRelay(id, 504, true); // a frozen owner: it lets go if it ever wakes up
    }
    if (!m_client || !m_client->isConnected()) {
        return;
    }
    // A killed node's Redis connection is closed by its kernel: its channel has no subscriber.
    for (const std::string& owner : owners) {
        if (!m_ownerChecks.insert(owner).second) {
            continue; // the previous check has not been answered yet
        }
        m_client->command(
            { "PUBSUB", "NUMSUB", channelOf(owner) }, [this, owner](const RedisReply& reply) {
                m_ownerChecks.erase(owner);
                if (reply.isError() || reply.elements().size() != 2
                    || !reply.elements()[1].isInteger() || reply.elements()[1].integer() > 0) {
                    return; // alive, or unknown (a Redis failure ends relays by itself)
                }
                std::vector<std::uint64_t> orphans;
                for (const auto& [id, relay] : m_heldRelays) {
                    if (relay.node == owner) {
                        orphans.push_back(id);
                    }
                }
                for (const std::uint64_t id : orphans) {
                    endRelay(id, 503, false);
                }
            });
    }
}

void NodeRouter::onMessage(const QByteArray& channel, const QByteArray& payload)
{
    if (channel != m_channel) {
        return;
    }
    // Every message is a compact JSON object; a relayed response part adds a newline and the
    // response's raw bytes after it.
    const qsizetype newline = payload.indexOf('\n');
    const QJsonObject o
        = QJsonDocument::fromJson(newline < 0 ? payload : payload.left(newline)).object();
    const QString kind = o.value(QLatin1String("k")).toString();
    if (kind == QLatin1String("o")) {
        onRelayPart(o, newline < 0 ? QByteArray() : payload.mid(newline + 1));
        return;
    }
    if (kind == QLatin1String("s") || kind == QLatin1String("x")) {
        const RelayLink link { o.value(QLatin1String("from")).toString().toStdString(),
            o.value(QLatin1String("id")).toString().toULongLong() };
        const QByteArray token = o.value(QLatin1String("t")).toString().toLatin1();
        if (kind == QLatin1String("x")) {
            if (m_relayCloseHandler) {
                m_relayCloseHandler(token, link);
            }
            return;
        }
        if (!m_relayOpenHandler) {
            sendRelay(link, 404, 0, {}, true, {});
            return;
        }
        m_relayOpenHandler(token, o.value(QLatin1String("m")).toString() == QLatin1String("sse"),
            o.value(QLatin1String("c")).toString().toLatin1(), link);
        return;
    }
    if (kind == QLatin1String("u")) {
        if (m_userHandler) {
            m_userHandler(o.value(QLatin1String("u")).toString().toStdString(),
                o.value(QLatin1String("f")).toString());
        }
        return;
    }
    if (kind == QLatin1String("r")) {
        const auto it = m_pending.find(o.value(QLatin1String("rid")).toString().toULongLong());
        if (it == m_pending.end()) {
            return; // answered 504 already
        }
        StatusDone done = std::move(it->second.done);
        m_pending.erase(it);
        done(o.value(QLatin1String("s")).toInt(503));
        return;
    }
    const bool commands = kind == QLatin1String("c") && m_commandsHandler;
    const bool end = kind == QLatin1String("e") && m_endSessionHandler;
    if (!commands && !end) {
        return;
    }
    const QString rid = o.value(QLatin1String("rid")).toString();
    const QByteArray replyTo = channelOf(o.value(QLatin1String("from")).toString().toStdString());
    StatusDone reply = [this, rid, replyTo](int status) {
        // Any thread: the answer is published from the router's thread.
        post(this, [this, rid, replyTo, status] {
            if (!m_client) {
                return;
            }
            m_client->command(
                { "PUBLISH", replyTo,
                    compact({ { QStringLiteral("k"), QStringLiteral("r") },
                        { QStringLiteral("rid"), rid }, { QStringLiteral("s"), status } }) },
                [](const RedisReply&) {});
        });
    };
    const QByteArray token = o.value(QLatin1String("t")).toString().toLatin1();
    if (end) {
        m_endSessionHandler(token, std::move(reply));
        return;
    }
    QList<QString> frames;
    for (const QJsonValue& frame : o.value(QLatin1String("f")).toArray()) {
        frames.push_back(frame.toString());
    }
    m_commandsHandler(token, std::move(frames), std::move(reply));
}

void NodeRouter::expirePending()
{
    const qint64 now = monotonicMs();
    std::vector<StatusDone> expired;
    for (auto it = m_pending.begin(); it != m_pending.end();) {
        if (it->second.deadlineMs <= now) {
            expired.push_back(std::move(it->second.done));
            it = m_pending.erase(it);
        } else {
            ++it;
        }
    }
    if (m_pending.empty()) {
        m_timeoutTimer->stop();
    }
    for (const StatusDone& done : expired) {
        done(504);
    }
}

void NodeRouter::failAllPending(int status)
{
    auto pending = std::move(m_pending);
    m_pending.clear();
    for (auto& [id, entry] : pending) {
        entry.done(status);
    }
}

void NodeRouter::updateHealth()
{
    const bool healthy = m_client && m_client->isConnected() && m_subscriber
        && m_subscriber->isSubscribed(m_channel);
    if (healthy != m_healthy.exchange(healthy)) {
        qCInfo(lcRouter, "event=router_link healthy=%s", healthy ? "true" : "false");
    }
}

} // namespace parley::server
