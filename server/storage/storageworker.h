// StorageWorker: runs a MessageStore on the storage thread, with a bounded request queue and
// group commit.
//
// Threading: the worker object lives on its own thread (the only thread that touches the store).
// Its public request methods are thread-safe: they post the request into the worker's event
// queue and return at once; the completion callback runs later ON THE STORAGE THREAD, and the
// caller's callback is expected to post the result to wherever it is needed (a session's I/O
// thread, the hub). Requests are handled in the order they were posted per posting thread.
//
// Bounded queue: a caller must hold a reservation (tryReserve()) for each request it posts;
// reservations are limited to `queueLimit` requests in flight. A refused reservation is the
// caller's signal to answer `overloaded` (retryable) instead of queueing without bound. The
// counter is one atomic: no lock on the network threads' hot path.
//
// Group commit: appends and room creations posted since the last commit are collected and
// committed in one transaction. The flush is scheduled as a posted event behind the first queued
// request, so everything that arrived while the previous fsync was running goes into the next
// transaction; a batch is also flushed at once when it reaches kMaxBatch. Reads do not wait for
// the batch: they see committed data only.
//
// Commit order is fan-out order: after a successful commit the committed handler (the hub) gets
// the newly stored messages of the batch in seq order, and only then the per-request callbacks
// (acks) run. Nothing is acked or fanned out for a batch whose commit failed; its requests get
// ok == false (the session answers `unavailable`, retryable, and the client resends with the same
// client id — dedupe makes that safe).
//
// Health: the worker records whether the last commit failed, and why, for /healthz (a node that
// cannot store must leave its balancer instead of answering every send `unavailable`). Written
// on the storage thread only when it changes, read by the I/O threads through one atomic
// pointer: no lock shared with the storage thread, no disk access on a network thread. A
// success clears it; while it is set the worker also probes the store (probeWrite()) every
// kProbeIntervalMs, so a node that gets no traffic (taken out by the balancer) still notices
// that its disk works again.
#pragma once

#include "messagestore.h"

#include <QObject>
#include <QTimer>
#include <atomic>
#include <functional>
#include <memory>
#include <vector>

namespace parley::server {

class StorageWorker : public QObject {
public:
    struct AppendReply {
        bool ok = false;
        std::string error;
        AppendOutcome outcome;
    };
    struct RoomReply {
        bool ok = false;
        std::string error;
        RoomPosition position;
    };
    using AppendDone = std::function<void(const AppendReply&)>;
    using RoomDone = std::function<void(const RoomReply&)>;
    using HistoryDone = std::function<void(const HistoryResult&)>;
    using CommittedHandler = std::function<void(std::vector<protocol::Message>)>;

    //! Whether the storage accepts writes, as the last commit (or probe) found it.
    struct Health {
        bool ok = true;
        //! Why the last commit failed, as SQLite says it ("insert message: database or disk is
        //! full"); empty while ok.
        std::string error;
        //! Wall-clock ms of the first failure of the current run of failures (0 while ok).
        std::int64_t failingSinceMs = 0;
    };

    //! Largest number of appends committed in one transaction.
    static constexpr std::size_t kMaxBatch = 4096;
    //! While commits fail: how often the store is probed for writes working again.
    static constexpr int kProbeIntervalMs = 1000;

    StorageWorker(std::unique_ptr<MessageStore> store, std::uint32_t queueLimit);
    ~StorageWorker() override;

    //! Set before the worker is used; called on the storage thread after each successful commit
    //! with the messages newly stored by it, in commit (and per room, seq) order.
    void setCommittedHandler(CommittedHandler handler) { m_committed = std::move(handler); }

    //! Storage thread (or any thread before the worker is moved to its thread): opens the store.
    //! Returns an empty string on success and fills `rooms` with every known room.
    std::string openStore(std::vector<RoomPosition>* rooms);

    //! Thread-safe. Takes one of the `queueLimit` in-flight slots; false when the queue is full.
    bool tryReserve();
    //! Thread-safe. Each of these consumes one reservation taken with tryReserve().
    void append(AppendRequest request, AppendDone done);
    void ensureRoom(std::string room, RoomDone done);
    void read(HistoryQuery query, HistoryDone done);

    //! Thread-safe. Commits everything queued before this call, closes the store, then calls
    //! `done` on the storage thread. Requests posted afterwards fail.
    void shutdown(std::function<void()> done);

    //! Requests in flight right now (for logs and health).
    int inFlight() const { return m_inFlight.load(std::memory_order_relaxed); }

    //! Thread-safe (for /healthz on the I/O threads): the storage's health right now. Copies a
    //! snapshot published by the storage thread; never waits for the storage thread or the disk.
    Health health() const;

private:
    struct PendingAppend {
        AppendRequest request;
        AppendDone done;
    };
    struct PendingRoom {
        std::string room;
        RoomDone done;
    };
    void scheduleFlush();
    void flush();
    void release(int count);
    //! Storage thread: records the outcome of a commit or probe (publishes only changes).
    void noteCommit(bool ok, const std::string& error);
    void probe();

    std::unique_ptr<MessageStore> m_store;
    const int m_queueLimit;
    std::atomic<int> m_inFlight { 0 };
    CommittedHandler m_committed;
    std::vector<PendingAppend> m_appends;
    std::vector<PendingRoom> m_rooms;
    bool m_flushScheduled = false;
    bool m_closed = false;
    // Published health (see health()); m_failing and m_lastError are the storage thread's copy.
    std::atomic<std::shared_ptr<const Health>> m_health;
    bool m_failing = false;
    std::string m_lastError;
    QTimer m_probeTimer; // a member, so it moves to the storage thread with the worker
};

} // namespace parley::server
