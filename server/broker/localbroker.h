// LocalBroker: the single-node Broker. It forwards to the SQLite storage path unchanged (the
// StorageWorker assigns seqs inside its commit transaction and dedupes with a unique index) and
// delivers every committed message to the hub in commit order.
#pragma once

#include "broker.h"

namespace parley::server {

class LocalBroker : public Broker {
public:
    //! `storage` outlives the broker.
    explicit LocalBroker(StorageWorker* storage);

    void setDeliveredHandler(DeliveredHandler handler) override;
    bool tryReserve() override;
    void append(AppendRequest request, AppendDone done) override;
    void openRoom(std::string room, RoomDone done) override;
    void closeRoom(std::string room) override;
    void read(HistoryQuery query, HistoryDone done) override;
    bool deliversAllRooms() const override { return true; }
    bool isHealthy() const override { return true; }
    const char* kind() const override { return "local"; }

private:
    StorageWorker* m_storage;
};

} // namespace parley::server
