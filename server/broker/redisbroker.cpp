#include "redisbroker.h"

#include "common/clock.h"
#include "common/ids.h"
#include "common/post.h"
#include "protocol/stored.h"
#include "redis/redisclient.h"
#include "redis/redisreply.h"
#include "redis/redissubscriber.h"
#include "redisscripts.h"

#include <QLoggingCategory>
#include <QTimer>

namespace parley::server {

Q_LOGGING_CATEGORY(lcBroker, "parley.broker", QtInfoMsg)

namespace {

constexpr int kRetryMs = 200;
constexpr std::uint32_t kGapChunk = 500;

QByteArray roomBase(const std::string& room)
{
    return "parley:{" + QByteArray::fromStdString(room) + "}";
}

QList<QByteArray> roomKeys(const std::string& room)
{
    const QByteArray base = roomBase(room);
    return { base + ":seq", base + ":epoch", base + ":hist" };
}

QByteArray channelOf(const std::string& room)
{
    return roomBase(room) + ":ch";
}

//! The room of a channel "parley:{ROOM}:ch"; empty if it is not one.
std::string roomOfChannel(const QByteArray& channel)
{
    static const QByteArray prefix = "parley:{";
    static const QByteArray suffix = "}:ch";
    if (!channel.startsWith(prefix) || !channel.endsWith(suffix)) {
        return {};
    }
    return channel.mid(prefix.size(), channel.size() - prefix.size() - suffix.size()).toStdString();
}

std::optional<protocol::Message> decodePayload(const QByteArray& payload)
{
    auto decoded = protocol::stored::decodeMessage(std::string_view(payload.data(), payload.size()));
    if (!decoded) {
        return std::nullopt;
    }
    return std::move(decoded).value();
}

QString describe(const RedisReply& reply)
{
    return reply.toString().left(200);
}

} // namespace

RedisBroker::RedisBroker(Options options)
    : m_options(std::move(options))
    , m_publishScript(redisscripts::kPublish)
    , m_positionScript(redisscripts::kPosition)
    , m_historyScript(redisscripts::kHistory)
{
}

RedisBroker::~RedisBroker() = default;

void RedisBroker::start()
{
    post(this, [this] {
        m_client = new RedisClient(m_options.endpoint, this);
        m_subscriber = new RedisSubscriber(m_options.endpoint, this);
        connect(m_client, &RedisClient::connected, this, [this] {
            qCInfo(lcBroker) << "event=redis_connected role=commands";
            // Fail early on a script that does not compile; EVALSHA re-loads on NOSCRIPT anyway.
            for (const RedisScript* script :
                { &m_publishScript, &m_positionScript, &m_historyScript }) {
                script->load(*m_client, [](const RedisReply& reply) {
                    if (reply.isError()) {
                        qCCritical(lcBroker).noquote()
                            << "event=script_load_failed reply=" << describe(reply);
                    }
                });
            }
            updateHealth();
        });
        connect(m_client, &RedisClient::disconnected, this, [this] {
            qCWarning(lcBroker) << "event=redis_disconnected role=commands";
            updateHealth();
        });
        connect(m_subscriber, &RedisSubscriber::connected, this, [this] { updateHealth(); });
        connect(m_subscriber, &RedisSubscriber::disconnected, this, [this] {
            qCWarning(lcBroker) << "event=redis_disconnected role=pubsub";
            updateHealth();
            failUnpositionedRooms();
        });
        connect(
            m_subscriber, &RedisSubscriber::subscribed, this, [this](const QByteArray& channel) {
                const std::string room = roomOfChannel(channel);
                if (m_rooms.count(room) != 0) {
                    readPosition(room);
                }
            });
        connect(
            m_subscriber, &RedisSubscriber::messageReceived, this, &RedisBroker::onChannelMessage);
        m_client->start();
        m_subscriber->start();
    });
}

void RedisBroker::stopLinks()
{
    if (m_client) {
        m_client->stop();
    }
    if (m_subscriber) {
        m_subscriber->stop();
    }
    m_healthy = false;
}

void RedisBroker::failUnpositionedRooms()
{
    // Joins waiting for a subscription confirmation that will not come on this link: answer them
    // now (retryable) rather than leave them hanging until Redis is back.
    for (auto it = m_rooms.begin(); it != m_rooms.end();) {
        if (it->second.order.positioned()) {
            ++it;
            continue;
        }
        std::vector<RoomDone> waiting;
        waiting.swap(it->second.waiting);
        m_subscriber->unsubscribe(channelOf(it->first));
        it = m_rooms.erase(it);
        for (const RoomDone& callback : waiting) {
            RoomReply reply;
            reply.error = "redis unavailable";
            callback(reply);
        }
    }
}

void RedisBroker::updateHealth()
{
    m_healthy = m_client && m_client->isConnected() && m_subscriber && m_subscriber->isConnected();
}

bool RedisBroker::tryReserve()
{
    if (m_inFlight.fetch_add(1, std::memory_order_relaxed) >= int(m_options.queueLimit)) {
        m_inFlight.fetch_sub(1, std::memory_order_relaxed);
        return false;
    }
    return true;
}

void RedisBroker::release()
{
    m_inFlight.fetch_sub(1, std::memory_order_relaxed);
}

void RedisBroker::append(AppendRequest request, AppendDone done)
{
    post(this, [this, request = std::move(request), done = std::move(done)] {
        const std::string& room = request.room;
        QList<QByteArray> keys = roomKeys(room);
        const QByteArray sender = QByteArray::fromStdString(request.sender);
        keys.append(roomBase(room) + ":dd:" + QByteArray::number(sender.size()) + ':' + sender + ':'
            + QByteArray::fromStdString(request.clientId));
        QList<QByteArray> args { QByteArray::fromStdString(room), sender,
            QByteArray::fromStdString(request.clientId), QByteArray::fromStdString(request.body),
            QByteArray::number(qint64(wallClockMs())), QByteArray::fromStdString(randomHex(8)),
            QByteArray::fromStdString(randomHex(8)), QByteArray::number(m_options.historyMax),
            QByteArray::number(m_options.dedupeTtlS), channelOf(room),
            QByteArray::number(m_options.historyMaxAgeS) };
        m_publishScript.call(*m_client, keys, args, [this, done](const RedisReply& reply) {
            release();
            AppendReply result;
            const auto& e = reply.elements();
            if (reply.isArray() && e.size() == 2 && e[1].isString()) {
                if (auto message = decodePayload(e[1].bytes())) {
                    result.ok = true;
                    result.outcome.status = e[0].integer() == 1 ? AppendOutcome::Status::Duplicate
                                                                : AppendOutcome::Status::Stored;
                    result.outcome.message = std::move(*message);
                }
            }
            if (!result.ok) {
                result.error = describe(reply).toStdString();
                qCWarning(lcBroker).noquote() << "event=publish_failed reply=" << describe(reply);
            }
            done(result);
        });
    });
}

void RedisBroker::openRoom(std::string room, RoomDone done)
{
    post(this, [this, room = std::move(room), done = std::move(done)]() mutable {
        doOpenRoom(room, std::move(done));
    });
}

void RedisBroker::doOpenRoom(const std::string& room, RoomDone done)
{
    release(); // openRoom's reservation only bounds the queue up to here
    auto [it, inserted] = m_rooms.try_emplace(room);
    RoomState& state = it->second;
    if (state.order.positioned()) {
        RoomReply reply;
        reply.ok = true;
        reply.position.room = room;
        reply.position.epoch = state.order.epoch();
        reply.position.lastSeq = state.order.delivered();
        done(reply);
        return;
    }
    state.waiting.push_back(std::move(done));
    const QByteArray channel = channelOf(room);
    if (!m_subscriber->hasChannel(channel)) {
        m_subscriber->subscribe(channel);
    }
    if (m_subscriber->isSubscribed(channel)) {
        readPosition(room);
    } else if (!m_subscriber->isConnected()) {
        // No Pub/Sub link: the join cannot be served now (retryable).
        std::vector<RoomDone> waiting;
        waiting.swap(state.waiting);
        m_rooms.erase(it);
        m_subscriber->unsubscribe(channel);
        for (const RoomDone& callback : waiting) {
            RoomReply reply;
            reply.error = "redis unavailable";
            callback(reply);
        }
    }
    // Otherwise the subscribed() confirmation reads the position.
}

void RedisBroker::closeRoom(std::string room)
{
    post(this, [this, room = std::move(room)] {
        if (m_rooms.erase(room) != 0) {
            m_subscriber->unsubscribe(channelOf(room));
        }
    });
}

void RedisBroker::readPosition(const std::string& room)
{
    m_positionScript.call(*m_client, roomKeys(room), { QByteArray::fromStdString(randomHex(8)) },
        [this, room](const RedisReply& reply) { onPosition(room, reply); });
}

void RedisBroker::onPosition(const std::string& room, const RedisReply& reply)
{
    const auto it = m_rooms.find(room);
    if (it == m_rooms.end()) {
        return; // closed meanwhile
    }
    RoomState& state = it->second;
    const auto& e = reply.elements();
    if (!reply.isArray() || e.size() != 3) {
        qCWarning(lcBroker).noquote()
            << "event=position_failed room=" << QString::fromStdString(room)
            << " reply=" << describe(reply);
        if (!state.order.positioned()) {
            std::vector<RoomDone> waiting;
            waiting.swap(state.waiting);
            m_rooms.erase(it);
            m_subscriber->unsubscribe(channelOf(room));
            for (const RoomDone& callback : waiting) {
                RoomReply failed;
                failed.error = "redis unavailable";
                callback(failed);
            }
        } else {
            // Re-subscribed after a link loss: keep trying until the gap can be checked.
            QTimer::singleShot(kRetryMs, this, [this, room] {
                if (m_rooms.count(room) != 0) {
                    readPosition(room);
                }
            });
        }
        return;
    }
    const std::string epoch = e[0].bytes().toStdString();
    const std::uint64_t lastSeq = e[1].bytes().toULongLong();
    if (!state.order.positioned()) {
        state.order.position(epoch, lastSeq);
        RoomReply ok;
        ok.ok = true;
        ok.position.room = room;
        ok.position.epoch = epoch;
        ok.position.lastSeq = lastSeq;
        ok.position.firstSeq = e[2].bytes().toULongLong();
        std::vector<RoomDone> waiting;
        waiting.swap(state.waiting);
        for (const RoomDone& callback : waiting) {
            callback(ok);
        }
        drain(room, state);
        return;
    }
    const std::optional<std::uint64_t> gapEnd = state.order.reposition(epoch, lastSeq);
    if (state.order.epochChanged()) {
        // The room's keys were lost in Redis and created again: its seqs start over. Members
        // learn it on their next resume (epoch_changed); live delivery follows the new stream.
        qCWarning(lcBroker).noquote()
            << "event=epoch_changed room=" << QString::fromStdString(room);
    }
    if (gapEnd) {
        fetchGap(room, state, *gapEnd);
    }
}

void RedisBroker::onChannelMessage(const QByteArray& channel, const QByteArray& payload)
{
    const std::string room = roomOfChannel(channel);
    const auto it = m_rooms.find(room);
    if (it == m_rooms.end()) {
        return;
    }
    std::optional<protocol::Message> message = decodePayload(payload);
    if (!message) {
        qCWarning(lcBroker) << "event=bad_payload channel=" << channel;
        return;
    }
    RoomState& state = it->second;
    state.order.receive(std::move(*message));
    if (state.order.positioned()) {
        drain(room, state);
    }
}

void RedisBroker::drain(const std::string& room, RoomState& state)
{
    std::vector<protocol::Message> ready = state.order.take();
    if (!ready.empty() && m_delivered) {
        m_delivered(std::move(ready));
    }
    if (const std::optional<std::uint64_t> gapEnd = state.order.gapEnd()) {
        fetchGap(room, state, *gapEnd);
    }
}

void RedisBroker::fetchGap(const std::string& room, RoomState& state, std::uint64_t to)
{
    if (state.fetching) {
        return;
    }
    state.fetching = true;
    HistoryQuery query;
    query.room = room;
    query.afterSeq = state.order.delivered();
    query.maxSeq = to;
    query.limit = kGapChunk;
    runHistory(query, [this, room](const HistoryResult& result) {
        const auto it = m_rooms.find(room);
        if (it == m_rooms.end()) {
            return;
        }
        RoomState& state = it->second;
        state.fetching = false;
        if (!result.ok) {
            QTimer::singleShot(kRetryMs, this, [this, room] {
                const auto again = m_rooms.find(room);
                if (again != m_rooms.end() && again->second.order.pending() != 0) {
                    drain(room, again->second);
                } else if (again != m_rooms.end()) {
                    readPosition(room);
                }
            });
            return;
        }
        if (const auto trimmed = state.order.fill(result.messages, result.position.firstSeq)) {
            // Trimmed from the history before this node could fetch it: members that need it
            // learn of the gap on their next resume; live delivery continues after it.
            qCWarning(lcBroker).noquote()
                << "event=delivery_gap room=" << QString::fromStdString(room)
                << " from=" << trimmed->from << " to=" << trimmed->to;
        }
        drain(room, state);
        if (state.order.pending() == 0 && result.hasMore) {
            readPosition(room); // the gap was longer than one chunk: continue from the position
        }
    });
}

void RedisBroker::read(HistoryQuery query, HistoryDone done)
{
    post(this, [this, query = std::move(query), done = std::move(done)] {
        runHistory(query, [this, done](const HistoryResult& result) {
            release();
            done(result);
        });
    });
}

void RedisBroker::runHistory(const HistoryQuery& query, HistoryDone done)
{
    QList<QByteArray> args;
    if (query.afterSeq) {
        args << "after" << QByteArray::number(qulonglong(*query.afterSeq))
             << (query.maxSeq == UINT64_MAX ? QByteArray("")
                                            : QByteArray::number(qulonglong(query.maxSeq)));
    } else if (query.beforeSeq) {
        args << "before" << QByteArray::number(qulonglong(*query.beforeSeq)) << "";
    } else {
        args << "latest"
             << "0"
             << "";
    }
    args << QByteArray::number(query.limit);
    const std::string room = query.room;
    m_historyScript.call(*m_client, roomKeys(room), args, [room, done](const RedisReply& reply) {
        HistoryResult result;
        const auto& e = reply.elements();
        if (!reply.isArray() || e.empty()) {
            result.error = describe(reply).toStdString();
            done(result);
            return;
        }
        result.ok = true;
        result.position.room = room;
        if (e[0].integer() == 0 || e.size() < 5) {
            done(result); // the room does not exist
            return;
        }
        result.roomExists = true;
        result.position.epoch = e[1].bytes().toStdString();
        result.position.lastSeq = e[2].bytes().toULongLong();
        result.position.firstSeq = e[3].bytes().toULongLong();
        result.hasMore = e[4].integer() == 1;
        for (std::size_t i = 5; i < e.size(); ++i) {
            if (auto message = decodePayload(e[i].bytes())) {
                result.messages.push_back(std::move(*message));
            }
        }
        done(result);
    });
}

} // namespace parley::server
