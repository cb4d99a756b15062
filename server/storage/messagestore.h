// MessageStore: the durable history of every room (the seam between the server and its storage).
//
// Contract (what every implementation guarantees):
// - Single-threaded: an instance is used by one thread only (parleyd's storage thread, see
//   StorageWorker). It does no locking and has no callbacks.
// - commit(batch) is atomic: either every room creation and every append of the batch is durable
//   when it returns ok, or nothing of it is (the transaction is rolled back, and the store's own
//   view of each room's last seq is unchanged). So a failed commit can never leave a hole.
// - Sequence numbers are assigned here, inside the transaction: each stored append gets its
//   room's last seq + 1, in batch order. Per room they are 1, 2, 3, ... with no hole and no repeat,
//   also across restarts (the last seq is stored with the room).
//   Why here and not in the hub: if the hub handed out seqs before the write, a failed or
//   abandoned write would leave a hole (seq n+1 already given to the next message). Assigning at
//   commit time, from the store's own committed state, makes a hole impossible by construction.
// - Dedupe: an append whose (room, sender, client id) matches a message stored less than
//   Retention::dedupeWindowMs before the batch's nowMs stores nothing and returns the original
//   message with AppendOutcome::Duplicate. The window is measured on the stored timestamps, so it
//   survives a restart. An older match is expired: the append is stored as a new message.
//   Appends within the same batch are deduplicated against each other too.
// - Retention (Retention::maxCount / maxAgeMs): after a commit, the rooms it appended to keep at
//   most maxCount messages and none older than maxAgeMs; the room's firstSeq moves up to the
//   oldest retained seq (stored, so it survives a restart). Trimming runs inside commit(), i.e.
//   on the storage thread. Dedupe does not depend on retention: a trimmed message's dedupe key
//   is kept until its window ends.
// - Rooms: a room is created on first use (ensureRoom or an append) with a random epoch that never
//   changes afterwards, across restarts included.
// - Reads (history) see only committed data, ascending seq.
//
// Threading and group commit (why it is built this way): parleyd runs the store on a dedicated
// storage thread (StorageWorker). Network threads never touch the database; they post requests.
// The worker collects every append posted since its last commit and commits them in one
// transaction (group commit), so one fsync covers many messages: under load the batch grows
// and the fsync cost per message falls, at low load a message waits only for its own commit.
// A message is acknowledged and fanned out only after its transaction committed.
#pragma once

#include "protocol/frames.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace parley::server {

//! How long the store keeps history and dedupe keys. Zero means unbounded for the history
//! bounds; the dedupe window must be positive.
struct Retention {
    std::uint64_t maxCount = 0; //!< messages kept per room (0: all)
    std::int64_t maxAgeMs = 0; //!< age of the oldest message kept (0: any)
    std::int64_t dedupeWindowMs = 10 * 60 * 1000; //!< a client id is deduplicated this long
};

//! A room's stream position as stored.
struct RoomPosition {
    std::string room;
    std::string epoch;
    std::uint64_t lastSeq = 0;
    //! Oldest seq still retained (1 while nothing was ever dropped). Replay from a cursor below
    //! firstSeq - 1 cannot be complete (retention trimmed it).
    std::uint64_t firstSeq = 1;
};

struct AppendRequest {
    std::string room;
    std::string sender;
    std::string clientId;
    std::string body;
};

struct AppendOutcome {
    enum class Status { Stored, Duplicate };
    Status status = Status::Stored;
    protocol::Message message; //!< the stored message (the original one for a duplicate)
};

//! One transaction's worth of work.
struct CommitBatch {
    std::vector<std::string> ensureRooms; //!< rooms to create if absent (processed first)
    std::vector<AppendRequest> appends; //!< in the order they must be sequenced
    std::int64_t nowMs = 0; //!< timestamp given to every message of the batch
};

struct CommitResult {
    bool ok = false;
    std::string error; //!< why the commit failed (ok == false)
    std::vector<RoomPosition> rooms; //!< one per ensureRooms entry, same order
    std::vector<AppendOutcome> appends; //!< one per appends entry, same order
};

//! A page or range of one room's history.
//! - afterSeq set: the oldest `limit` messages with afterSeq < seq <= maxSeq; hasMore when more
//!   exist in that range beyond the page.
//! - beforeSeq set: the newest `limit` messages with seq < beforeSeq; hasMore when older exist.
//! - neither: the newest `limit` messages; hasMore when older exist.
//! Messages are returned in ascending seq either way.
struct HistoryQuery {
    std::string room;
    std::optional<std::uint64_t> beforeSeq;
    std::optional<std::uint64_t> afterSeq;
    std::uint64_t maxSeq = UINT64_MAX;
    std::uint32_t limit = 50;
};

struct HistoryResult {
    bool ok = false;
    std::string error;
    bool roomExists = false;
    RoomPosition position; //!< the room's epoch, last seq and first retained seq
    std::vector<protocol::Message> messages;
    bool hasMore = false;
};

class MessageStore {
public:
    virtual ~MessageStore() = default;

    //! Opens (creating if needed) the store and proves it can write (probeWrite()), so a store on
    //! a read-only file, directory or filesystem, or on a full disk, never opens. Returns an empty
    //! string on success, else the reason.
    virtual std::string open() = 0;
    //! Flushes and closes; further calls fail until open() again.
    virtual void close() = 0;

    //! Every known room with its position, for the hub's start-up state.
    virtual std::vector<RoomPosition> loadRooms() = 0;

    //! Atomically applies a batch (see the contract above).
    virtual CommitResult commit(const CommitBatch& batch) = 0;

    //! Reads a page of history (see HistoryQuery).
    virtual HistoryResult history(const HistoryQuery& query) = 0;

    //! Commits a small write of the store's own bookkeeping, made as durable as a commit():
    //! whether the database accepts writes right now. Empty on success, else the reason. Used at
    //! open() and, while commits fail, to notice that the storage works again without waiting
    //! for client traffic (a node out of its balancer gets none).
    virtual std::string probeWrite() = 0;
};

} // namespace parley::server
