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

void NodeRouter::onMessage(const QByteArray& channel, const QByteArray& payload)
{
    if (channel != m_channel) {
        return;
    }
    const QJsonObject o = QJsonDocument::fromJson(payload).object();
    const QString kind = o.value(QLatin1String("k")).toString();
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
