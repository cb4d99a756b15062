#include "storageworker.h"

#include "common/clock.h"
#include "common/post.h"

#include <QLoggingCategory>

namespace parley::server {

Q_LOGGING_CATEGORY(lcStorage, "parley.storage", QtInfoMsg)

StorageWorker::StorageWorker(std::unique_ptr<MessageStore> store, std::uint32_t queueLimit)
    : m_store(std::move(store))
    , m_queueLimit(int(queueLimit))
    , m_health(std::make_shared<const Health>())
    , m_probeTimer(this)
{
    m_probeTimer.setInterval(kProbeIntervalMs);
    connect(&m_probeTimer, &QTimer::timeout, this, [this] { probe(); });
}

StorageWorker::~StorageWorker() = default;

std::string StorageWorker::openStore(std::vector<RoomPosition>* rooms)
{
    std::string error = m_store->open();
    if (error.empty()) {
        *rooms = m_store->loadRooms();
    }
    return error;
}

bool StorageWorker::tryReserve()
{
    // Optimistic increment; undo if over the limit. Never blocks.
    if (m_inFlight.fetch_add(1, std::memory_order_relaxed) >= m_queueLimit) {
        m_inFlight.fetch_sub(1, std::memory_order_relaxed);
        return false;
    }
    return true;
}

void StorageWorker::release(int count)
{
    m_inFlight.fetch_sub(count, std::memory_order_relaxed);
}

void StorageWorker::append(AppendRequest request, AppendDone done)
{
    post(this, [this, request = std::move(request), done = std::move(done)]() mutable {
        if (m_closed) {
            release(1);
            done(AppendReply { false, "storage closed", {} });
            return;
        }
        m_appends.push_back(PendingAppend { std::move(request), std::move(done) });
        scheduleFlush();
    });
}

void StorageWorker::ensureRoom(std::string room, RoomDone done)
{
    post(this, [this, room = std::move(room), done = std::move(done)]() mutable {
        if (m_closed) {
            release(1);
            done(RoomReply { false, "storage closed", {} });
            return;
        }
        m_rooms.push_back(PendingRoom { std::move(room), std::move(done) });
        scheduleFlush();
    });
}

void StorageWorker::read(HistoryQuery query, HistoryDone done)
{
    post(this, [this, query = std::move(query), done = std::move(done)] {
        HistoryResult result;
        if (m_closed) {
            result.error = "storage closed";
        } else {
            result = m_store->history(query);
        }
        release(1);
        done(result);
    });
}

StorageWorker::Health StorageWorker::health() const
{
    return *m_health.load(std::memory_order_acquire);
}

void StorageWorker::noteCommit(bool ok, const std::string& error)
{
    if (ok) {
        if (!m_failing) {
            return; // the hot path: one branch, nothing published
        }
        m_failing = false;
        m_lastError.clear();
        m_probeTimer.stop();
        m_health.store(std::make_shared<const Health>(), std::memory_order_release);
        qCInfo(lcStorage) << "event=storage_recovered";
        return;
    }
    if (m_failing && error == m_lastError) {
        return;
    }
    const std::int64_t since
        = m_failing ? m_health.load(std::memory_order_relaxed)->failingSinceMs : wallClockMs();
    m_failing = true;
    m_lastError = error;
    qCWarning(lcStorage, "event=storage_failing error=\"%s\"", error.c_str());
    m_health.store(
        std::make_shared<const Health>(Health { false, error, since }), std::memory_order_release);
    if (!m_closed) {
        m_probeTimer.start();
    }
}

void StorageWorker::probe()
{
    if (m_closed || !m_failing) {
        m_probeTimer.stop();
        return;
    }
    const std::string error = m_store->probeWrite();
    // Once a second while failing: only a change of the reason is worth a warning (noteCommit).
    if (!error.empty()) {
        qCDebug(lcStorage, "event=storage_probe_failed error=\"%s\"", error.c_str());
    }
    noteCommit(error.empty(), error);
}

void StorageWorker::shutdown(std::function<void()> done)
{
    post(this, [this, done = std::move(done)] {
        flush();
        m_probeTimer.stop();
        m_store->close();
        m_closed = true;
        qCInfo(lcStorage) << "event=storage_closed";
        done();
    });
}

void StorageWorker::scheduleFlush()
{
    if (m_appends.size() >= kMaxBatch) {
        flush();
        return;
    }
    if (!m_flushScheduled) {
        m_flushScheduled = true;
        // Behind every request already in the queue: they all join this transaction.
        post(this, [this] { flush(); });
    }
}

void StorageWorker::flush()
{
    m_flushScheduled = false;
    if (m_appends.empty() && m_rooms.empty()) {
        return;
    }
    std::vector<PendingAppend> appends;
    std::vector<PendingRoom> rooms;
    appends.swap(m_appends);
    rooms.swap(m_rooms);

    CommitBatch batch;
    batch.nowMs = wallClockMs();
    batch.ensureRooms.reserve(rooms.size());
    for (const PendingRoom& room : rooms) {
        batch.ensureRooms.push_back(room.room);
    }
    batch.appends.reserve(appends.size());
    for (PendingAppend& append : appends) {
        batch.appends.push_back(std::move(append.request));
    }

    const CommitResult result = m_store->commit(batch);
    const int count = int(appends.size() + rooms.size());
    if (!result.ok) {
        qCWarning(lcStorage, "event=commit_failed appends=%zu error=\"%s\"", appends.size(),
            result.error.c_str());
        noteCommit(false, result.error);
        release(count);
        for (PendingRoom& room : rooms) {
            room.done(RoomReply { false, result.error, {} });
        }
        for (PendingAppend& append : appends) {
            append.done(AppendReply { false, result.error, {} });
        }
        return;
    }
    qCDebug(lcStorage, "event=commit appends=%zu rooms=%zu", appends.size(), rooms.size());
    noteCommit(true, {});

    std::vector<protocol::Message> stored;
    stored.reserve(result.appends.size());
    for (const AppendOutcome& outcome : result.appends) {
        if (outcome.status == AppendOutcome::Status::Stored) {
            stored.push_back(outcome.message);
        }
    }
    // Fan-out first (posted to the hub), then the acks: a sender may see its ack before or after
    // its own message; both are after the commit, which is what the guarantee is about.
    if (!stored.empty() && m_committed) {
        m_committed(std::move(stored));
    }
    release(count);
    for (std::size_t i = 0; i < rooms.size(); ++i) {
        rooms[i].done(RoomReply { true, {}, result.rooms[i] });
    }
    for (std::size_t i = 0; i < appends.size(); ++i) {
        appends[i].done(AppendReply { true, {}, result.appends[i] });
    }
}

} // namespace parley::server
