#include "redispresence.h"

#include "common/post.h"
#include "presencescripts.h"
#include "redis/redisclient.h"
#include "redis/redisreply.h"
#include "redis/redissubscriber.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <algorithm>

namespace parley::server {

Q_LOGGING_CATEGORY(lcPresence, "parley.presence", QtInfoMsg)

namespace {

constexpr const char* kExpiryKey = "parley:presence:exp";
constexpr const char* kRoomUsersKey = "parley:presence:rooms";
constexpr const char* kUserPrefix = "parley:{u:";
constexpr int kSweepBatch = 1000;

QList<QByteArray> userKeys(const std::string& user)
{
    const QByteArray base = kUserPrefix + QByteArray::fromStdString(user) + "}:";
    return { base + "ps", base + "pr", base + "on", kExpiryKey, kRoomUsersKey };
}

QByteArray joinRooms(const std::vector<std::string>& rooms)
{
    QByteArray joined;
    for (const std::string& room : rooms) {
        if (!joined.isEmpty()) {
            joined += ',';
        }
        joined += QByteArray::fromStdString(room);
    }
    return joined;
}

void logFailure(const char* what, const RedisReply& reply)
{
    // Closed: the node is shutting down; the entry expires with its TTL.
    if (reply.isError() && reply.errorKind() != RedisReply::ErrorKind::Closed) {
        qCWarning(lcPresence).noquote().nospace() << "event=presence_update_failed op=" << what
                                                  << " reply=" << reply.toString().left(200);
    }
}

} // namespace

QByteArray RedisPresence::sessionsKey(const std::string& user)
{
    return userKeys(user)[0];
}

RedisPresence::RedisPresence(RedisEndpoint endpoint, std::int64_t ttlMs, std::size_t maxRoomUsers)
    : m_endpoint(std::move(endpoint))
    , m_ttlMs(ttlMs)
    , m_maxRoomUsers(maxRoomUsers)
    , m_aliveScript(presencescripts::kAlive)
    , m_downScript(presencescripts::kDown)
    , m_sweepScript(presencescripts::kSweep)
{
}

RedisPresence::~RedisPresence() = default;

void RedisPresence::start()
{
    post(this, [this] {
        m_client = new RedisClient(m_endpoint, this);
        m_subscriber = new RedisSubscriber(m_endpoint, this);
        connect(m_client, &RedisClient::connected, this, [this] {
            for (const RedisScript* script : { &m_aliveScript, &m_downScript, &m_sweepScript }) {
                script->load(*m_client, [](const RedisReply& reply) {
                    if (reply.isError()) {
                        qCCritical(lcPresence).noquote()
                            << "event=script_load_failed reply=" << reply.toString().left(200);
                    }
                });
            }
            updateHealth();
        });
        connect(m_client, &RedisClient::disconnected, this, [this] { updateHealth(); });
        connect(m_subscriber, &RedisSubscriber::subscribed, this, [this] { updateHealth(); });
        connect(m_subscriber, &RedisSubscriber::disconnected, this, [this] { updateHealth(); });
        connect(m_subscriber, &RedisSubscriber::messageReceived, this,
            [this](const QByteArray& channel, const QByteArray& payload) {
                onChannelMessage(channel, payload);
            });
        m_sweepTimer = new QTimer(this);
        m_sweepTimer->setInterval(1000);
        connect(m_sweepTimer, &QTimer::timeout, this, [this] { sweep(); });
        m_sweepTimer->start();
        m_subscriber->subscribe(kChannel);
        m_client->start();
        m_subscriber->start();
    });
}

void RedisPresence::stopLinks()
{
    if (m_sweepTimer) {
        m_sweepTimer->stop();
    }
    if (m_subscriber) {
        m_subscriber->stop();
    }
    if (m_client) {
        m_client->stop();
    }
}

void RedisPresence::sessionAlive(
    std::string session, std::string user, std::vector<std::string> rooms, std::int64_t quietMs)
{
    const std::int64_t leftMs = m_ttlMs - std::max<std::int64_t>(quietMs, 0);
    if (leftMs <= 0) {
        return; // silent for longer than the ttl: the sweep ends it
    }
    post(this,
        [this, session = std::move(session), user = std::move(user), rooms = std::move(rooms),
            leftMs] {
            if (!m_client) {
                return;
            }
            m_aliveScript.call(*m_client, userKeys(user),
                { QByteArray::fromStdString(user), QByteArray::fromStdString(session),
                    QByteArray::number(qint64(leftMs)), joinRooms(rooms), kChannel },
                [](const RedisReply& reply) { logFailure("alive", reply); });
        });
}

void RedisPresence::sessionDown(std::string session, std::string user)
{
    post(this, [this, session = std::move(session), user = std::move(user)] {
        if (!m_client) {
            return;
        }
        m_downScript.call(*m_client, userKeys(user),
            { QByteArray::fromStdString(user), QByteArray::fromStdString(session), kChannel },
            [](const RedisReply& reply) { logFailure("down", reply); });
    });
}

void RedisPresence::query(std::vector<std::string> users, QueryDone done)
{
    post(this, [this, users = std::move(users), done = std::move(done)] {
        if (!m_client) {
            done(false, {});
            return;
        }
        if (users.empty()) {
            done(true, {});
            return;
        }
        QList<QByteArray> args { "MGET" };
        args.reserve(qsizetype(users.size()) + 1);
        for (const std::string& user : users) {
            args.push_back(userKeys(user)[2]);
        }
        const std::size_t count = users.size();
        m_client->command(std::move(args), [done, count](const RedisReply& reply) {
            if (!reply.isArray() || reply.elements().size() != count) {
                done(false, {});
                return;
            }
            std::vector<bool> online;
            online.reserve(count);
            for (const RedisReply& element : reply.elements()) {
                online.push_back(!element.isNil());
            }
            done(true, std::move(online));
        });
    });
}

void RedisPresence::sweep()
{
    if (m_sweeping || !m_client->isConnected()) {
        return;
    }
    m_sweeping = true;
    m_sweepScript.call(*m_client, { kExpiryKey, kRoomUsersKey },
        { kUserPrefix, kChannel, QByteArray::number(kSweepBatch) },
        [this](const RedisReply& reply) {
            m_sweeping = false;
            logFailure("sweep", reply);
            if (reply.isInteger() && reply.integer() >= kSweepBatch) {
                post(this, [this] { sweep(); }); // more are due: go on without waiting a second
            }
        });
}

void RedisPresence::onChannelMessage(const QByteArray& channel, const QByteArray& payload)
{
    if (channel != kChannel || !m_handler) {
        return;
    }
    const QJsonObject o = QJsonDocument::fromJson(payload).object();
    Transition transition;
    transition.user = o.value(QLatin1String("u")).toString().toStdString();
    transition.online = o.value(QLatin1String("o")).toBool();
    // The script names every room of the change with its cluster-wide user count; this node
    // tells its members of the small ones only. A room without a count is not announced.
    const QJsonArray rooms = o.value(QLatin1String("r")).toArray();
    const QJsonArray users = o.value(QLatin1String("n")).toArray();
    for (qsizetype i = 0; i < rooms.size() && i < users.size(); ++i) {
        const double count = users.at(i).toDouble(-1);
        if (count >= 0 && count <= double(m_maxRoomUsers)) {
            transition.rooms.push_back(rooms.at(i).toString().toStdString());
        }
    }
    if (transition.user.empty() || transition.rooms.empty()) {
        return;
    }
    m_handler(transition);
}

void RedisPresence::updateHealth()
{
    const bool healthy = m_client && m_client->isConnected() && m_subscriber
        && m_subscriber->isSubscribed(kChannel);
    if (healthy != m_healthy.exchange(healthy)) {
        qCInfo(lcPresence, "event=presence_link healthy=%s", healthy ? "true" : "false");
    }
}

} // namespace parley::server
