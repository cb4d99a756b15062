// Broker: the seam between the hub/sessions of one node and the authority that orders, stores and
// fans out every room's messages (centrifuge's Broker). Two implementations:
// - LocalBroker: the node alone, on its SQLite storage thread (StorageWorker). The default.
// - RedisBroker: a cluster of nodes sharing one Redis (`parleyd --redis redis://HOST:PORT[/DB]`).
//
// Contract (what every implementation guarantees):
// - append() (publish) is atomic per room: the next seq of the room, the append to the room's
//   history, the (room, sender, client id) dedupe record and the fanout to every node with
//   members happen together or not at all. The sender is answered (ok) only after that; a
//   duplicate is answered with the ORIGINAL message and AppendOutcome::Duplicate, nothing is
//   stored or fanned out again.
// - Ordering: per room, seqs are 1, 2, 3 ... without holes from the one authority (the store's
//   transaction, or the Redis script). The delivered handler receives, for every room opened on
//   this node, every message after the position reported by openRoom() exactly once, in seq order
//   (a broker buffers and reorders, and fills gaps from its history).
// - Failure: a request that could not be done answers ok == false (the session answers
//   `unavailable`, retryable; the client resends with the same client id, dedupe makes that safe).
//   Never a silent drop of an acknowledged message.
// - Threading: public methods are thread-safe and return at once; each consumes one reservation
//   taken with tryReserve() (a refused reservation means `overloaded`). Callbacks and the delivered
//   handler run on the broker's own thread: callers post the results where they are needed.
//   Calls posted from one thread are handled in order.
#pragma once

#include "storage/messagestore.h"
#include "storage/storageworker.h"

#include <functional>
#include <string>
#include <vector>

namespace parley::server {

class Broker {
public:
    // The reply types of the single-node storage path, shared so that sessions answer the same
    // way whichever broker runs.
    using AppendReply = StorageWorker::AppendReply;
    using RoomReply = StorageWorker::RoomReply;
    using AppendDone = StorageWorker::AppendDone;
    using RoomDone = StorageWorker::RoomDone;
    using HistoryDone = StorageWorker::HistoryDone;
    using DeliveredHandler = std::function<void(std::vector<protocol::Message>)>;

    virtual ~Broker() = default;

    //! Set before use: receives the messages of opened rooms, per room in seq order.
    virtual void setDeliveredHandler(DeliveredHandler handler) = 0;

    //! Takes one in-flight slot; false when the broker's bounded queue is full.
    virtual bool tryReserve() = 0;
    //! Publishes one message (see the contract).
    virtual void append(AppendRequest request, AppendDone done) = 0;
    //! The room gets its first local member: creates it if needed (its epoch) and starts its
    //! delivery. `done` gets the room's position; the delivered handler then receives exactly the
    //! messages after position.lastSeq.
    virtual void openRoom(std::string room, RoomDone done) = 0;
    //! The room's last local member left: delivery for it may stop (no reservation needed).
    virtual void closeRoom(std::string room) = 0;
    //! Reads a page of history (HistoryQuery semantics, committed/acknowledged messages only).
    virtual void read(HistoryQuery query, HistoryDone done) = 0;

    //! True when rooms without local members must stay known to the hub with their last seq
    //! (the local broker delivers every room's messages); false when a closed room is forgotten
    //! and opened again from the authority's position (Redis).
    virtual bool deliversAllRooms() const = 0;
    //! Thread-safe: whether the link to the authority works (for /healthz). Always true locally.
    virtual bool isHealthy() const = 0;
    //! "local" or "redis", for /healthz and logs.
    virtual const char* kind() const = 0;
};

} // namespace parley::server
